package postgres

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/team"
	"github.com/google/uuid"
)

var (
	_ team.Store = (*Store)(nil)
	_ team.Tx    = (*txn)(nil)
)

// teamRow is the teams table.
type teamRow struct {
	ID        uuid.UUID
	OrgID     uuid.UUID
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// memberRow is a team membership with the user's e-mail, name and role.
type memberRow struct {
	TeamID  uuid.UUID
	UserID  uuid.UUID
	Email   string
	Name    string
	Role    string
	AddedAt time.Time
}

func (r *teamRow) domain() team.Team {
	return team.Team{ID: r.ID, OrgID: r.OrgID, Name: r.Name, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Members: []team.Member{}}
}

// InTeamTx implements team.Store.
func (s *Store) InTeamTx(ctx context.Context, fn func(ctx context.Context, tx team.Tx) error) error {
	return inTx(ctx, s, fn)
}

// Teams implements team.Store: the teams and their members in two queries.
func (s *Store) Teams(ctx context.Context, orgID uuid.UUID) ([]team.Team, error) {
	var rows []teamRow
	if err := s.db.WithContext(ctx).Raw(`SELECT * FROM teams WHERE org_id = ? ORDER BY lower(name), id`, orgID).Scan(&rows).Error; err != nil {
		return nil, translate(err, "list teams")
	}
	return s.withMembers(ctx, rows)
}

// Team implements team.Store.
func (s *Store) Team(ctx context.Context, orgID, id uuid.UUID) (*team.Team, error) {
	var rows []teamRow
	if err := s.db.WithContext(ctx).Raw(`SELECT * FROM teams WHERE id = ? AND org_id = ?`, id, orgID).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load team")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "team %s not found", id)
	}
	ts, err := s.withMembers(ctx, rows)
	if err != nil {
		return nil, err
	}
	return &ts[0], nil
}

// TeamsOf implements team.Store.
func (s *Store) TeamsOf(ctx context.Context, userID uuid.UUID) ([]team.Team, error) {
	var rows []teamRow
	err := s.db.WithContext(ctx).Raw(`SELECT t.* FROM teams t JOIN team_members m ON m.team_id = t.id
		WHERE m.user_id = ? ORDER BY lower(t.name), t.id`, userID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "list a user's teams")
	}
	out := make([]team.Team, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// withMembers maps rows and reads their members in one query.
func (s *Store) withMembers(ctx context.Context, rows []teamRow) ([]team.Team, error) {
	out := make([]team.Team, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]uuid.UUID, len(rows))
	at := map[uuid.UUID]int{}
	for i := range rows {
		out[i] = rows[i].domain()
		ids[i], at[rows[i].ID] = rows[i].ID, i
	}
	var ms []memberRow
	err := s.db.WithContext(ctx).Raw(`SELECT m.team_id, m.user_id, u.email, u.name, u.role, m.added_at
		FROM team_members m JOIN users u ON u.id = m.user_id
		WHERE m.team_id IN ? ORDER BY lower(COALESCE(NULLIF(u.name, ''), u.email)), u.email`, ids).Scan(&ms).Error
	if err != nil {
		return nil, translate(err, "list team members")
	}
	for _, m := range ms {
		t := &out[at[m.TeamID]]
		t.Members = append(t.Members, team.Member{UserID: m.UserID, Email: m.Email, Name: m.Name, Role: access.Role(m.Role),
			AddedAt: m.AddedAt.UTC()})
	}
	return out, nil
}

// LockTeam implements team.Tx.
func (t *txn) LockTeam(ctx context.Context, orgID, id uuid.UUID) (*team.Team, error) {
	var rows []teamRow
	if err := t.db.WithContext(ctx).Raw(`SELECT * FROM teams WHERE id = ? AND org_id = ? FOR UPDATE`, id, orgID).Scan(&rows).Error; err != nil {
		return nil, translate(err, "lock team")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "team %s not found", id)
	}
	var ms []memberRow
	err := t.db.WithContext(ctx).Raw(`SELECT m.team_id, m.user_id, u.email, u.name, u.role, m.added_at
		FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = ?`, id).Scan(&ms).Error
	if err != nil {
		return nil, translate(err, "list team members")
	}
	tm := rows[0].domain()
	for _, m := range ms {
		tm.Members = append(tm.Members, team.Member{UserID: m.UserID, Email: m.Email, Name: m.Name, Role: access.Role(m.Role),
			AddedAt: m.AddedAt.UTC()})
	}
	return &tm, nil
}

// teamNameTaken is the conflict of a name the organisation has already.
func teamNameTaken(err error) error {
	return &apperr.Error{Code: apperr.Conflict, Message: "your organisation has a team of this name",
		Fields: []apperr.FieldError{{Field: "name", Rule: "unique", Message: "your organisation has a team of this name"}}, Err: err}
}

// InsertTeam implements team.Tx.
func (t *txn) InsertTeam(ctx context.Context, tm *team.Team) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO teams (id, org_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		tm.ID, tm.OrgID, tm.Name, tm.CreatedAt, tm.UpdatedAt).Error
	if isConstraint(err, "teams_org_name_key") {
		return teamNameTaken(err)
	}
	return translate(err, "insert team")
}

// RenameTeam implements team.Tx.
func (t *txn) RenameTeam(ctx context.Context, id uuid.UUID, name string, now time.Time) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE teams SET name = ?, updated_at = ? WHERE id = ?`, name, now, id).Error
	if isConstraint(err, "teams_org_name_key") {
		return teamNameTaken(err)
	}
	return translate(err, "rename team")
}

// DeleteTeam implements team.Tx.
func (t *txn) DeleteTeam(ctx context.Context, id uuid.UUID) error {
	return translate(t.db.WithContext(ctx).Exec(`DELETE FROM teams WHERE id = ?`, id).Error, "delete team")
}

// TeamOpenWork implements team.Tx.
func (t *txn) TeamOpenWork(ctx context.Context, id uuid.UUID) (int, int, error) {
	var out struct{ Incidents, Tasks int }
	err := t.db.WithContext(ctx).Raw(`SELECT
		(SELECT count(*) FROM incidents WHERE assignee_team_id = ? AND status = 'open') AS incidents,
		(SELECT count(*) FROM incident_tasks WHERE assignee_team_id = ? AND status IN ('open', 'in_progress')) AS tasks`,
		id, id).Scan(&out).Error
	return out.Incidents, out.Tasks, translate(err, "count a team's open work")
}

// TeamCandidate implements team.Tx.
func (t *txn) TeamCandidate(ctx context.Context, ref string) (*team.Candidate, error) {
	where, arg := "lower(email) = lower(?)", any(ref)
	if id, err := uuid.Parse(ref); err == nil {
		where, arg = "id = ?", id
	}
	var rows []struct {
		ID         uuid.UUID
		Email      string
		OrgID      uuid.UUID
		DisabledAt *time.Time
	}
	if err := t.db.WithContext(ctx).Raw(`SELECT id, email, org_id, disabled_at FROM users WHERE `+where, arg).Scan(&rows).Error; err != nil {
		return nil, translate(err, "find user")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "user %q not found", ref)
	}
	r := rows[0]
	return &team.Candidate{ID: r.ID, Email: r.Email, OrgID: r.OrgID, Disabled: r.DisabledAt != nil}, nil
}

// InsertMember implements team.Tx.
func (t *txn) InsertMember(ctx context.Context, teamID, userID uuid.UUID, now time.Time) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`INSERT INTO team_members (team_id, user_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		teamID, userID, now)
	return res.RowsAffected == 1, translate(res.Error, "add team member")
}

// DeleteMember implements team.Tx.
func (t *txn) DeleteMember(ctx context.Context, teamID, userID uuid.UUID) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`DELETE FROM team_members WHERE team_id = ? AND user_id = ?`, teamID, userID)
	return res.RowsAffected == 1, translate(res.Error, "remove team member")
}

// CountMembers implements team.Tx.
func (t *txn) CountMembers(ctx context.Context, teamID uuid.UUID) (int, error) {
	var n int
	err := t.db.WithContext(ctx).Raw(`SELECT count(*) FROM team_members WHERE team_id = ?`, teamID).Scan(&n).Error
	return n, translate(err, "count team members")
}
