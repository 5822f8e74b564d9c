// Package team groups a CERT's users in teams, so that an incident or a
// task can be assigned to a team: the team's unclaimed items (a team and
// no person assigned) are in every member's "Mine" (docs/api.md, "Teams").
//
// The rules:
//
//   - A team is its organisation's: only that organisation's users see it
//     (list, read); for everyone else it does not exist (apperr.NotFound),
//     like an incident they may not see.
//   - Creating, renaming and deleting teams and changing their members is
//     the role matrix's team.manage: coordinators and administrators of a
//     CERT, for their own organisation's teams (apperr.Forbidden
//     otherwise).
//   - Names are 1 to 80 characters, unique in the organisation whatever
//     their case (apperr.Conflict naming "name").
//   - Members are active users of the team's organisation (a field error
//     on "email" otherwise).
//   - A team with open work — an open incident or an unfinished task
//     assigned to it — is not deleted (apperr.Conflict): assign the work
//     elsewhere first. Closed incidents and finished tasks that named it
//     lose the team; their timelines keep the record of the assignment.
//   - Every change is audited (team.created, team.renamed, team.deleted,
//     team.member_added, team.member_removed) in its transaction.
package team

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/google/uuid"
)

// MaxName bounds a team's name, in characters.
const MaxName = 80

// MaxMembers bounds a team's size.
const MaxMembers = 200

// Team is a named group of an organisation's users.
type Team struct {
	ID        uuid.UUID
	OrgID     uuid.UUID
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Members are filled on reads, by name (then e-mail).
	Members []Member
}

// Member is one user of a team.
type Member struct {
	UserID  uuid.UUID
	Email   string
	Name    string
	Role    access.Role
	AddedAt time.Time
}

// Candidate is a user as adding them to a team sees them.
type Candidate struct {
	ID       uuid.UUID
	Email    string
	OrgID    uuid.UUID
	Disabled bool
}

// Store is the persistence of teams.
type Store interface {
	// InTeamTx runs fn in one database transaction.
	InTeamTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Teams lists an organisation's teams with their members, by name.
	Teams(ctx context.Context, orgID uuid.UUID) ([]Team, error)
	// Team returns one team of the organisation with its members
	// (apperr.NotFound for another organisation's team or none).
	Team(ctx context.Context, orgID, id uuid.UUID) (*Team, error)
	// TeamsOf lists the teams a user is a member of, by name, without
	// their members.
	TeamsOf(ctx context.Context, userID uuid.UUID) ([]Team, error)
}

// Tx is what the team use cases do inside a transaction.
type Tx interface {
	// LockTeam reads one team of the organisation and locks it
	// (apperr.NotFound for another organisation's team or none).
	LockTeam(ctx context.Context, orgID, id uuid.UUID) (*Team, error)
	// InsertTeam inserts a team; a name the organisation has already is
	// apperr.Conflict naming "name".
	InsertTeam(ctx context.Context, t *Team) error
	// RenameTeam renames a team; the same conflict as InsertTeam.
	RenameTeam(ctx context.Context, id uuid.UUID, name string, now time.Time) error
	// DeleteTeam deletes a team and its memberships.
	DeleteTeam(ctx context.Context, id uuid.UUID) error
	// TeamOpenWork counts the open incidents and unfinished tasks assigned
	// to the team.
	TeamOpenWork(ctx context.Context, id uuid.UUID) (incidents, tasks int, err error)
	// TeamCandidate finds a user by e-mail (any case) or ID
	// (apperr.NotFound when there is none).
	TeamCandidate(ctx context.Context, ref string) (*Candidate, error)
	// InsertMember adds a user to a team; false when already a member.
	InsertMember(ctx context.Context, teamID, userID uuid.UUID, now time.Time) (bool, error)
	// DeleteMember removes a user from a team; false when not a member.
	DeleteMember(ctx context.Context, teamID, userID uuid.UUID) (bool, error)
	// CountMembers counts a team's members.
	CountMembers(ctx context.Context, teamID uuid.UUID) (int, error)
	// Audit writes an audit log entry.
	Audit(ctx context.Context, e audit.Entry) error
}

// Service holds the team use cases.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service. now is the clock; nil means time.Now.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// List returns the teams of p's organisation with their members. Every
// role may read them; an organisation without teams has none.
func (s *Service) List(ctx context.Context, p access.Principal) ([]Team, error) {
	if p.System || p.OrgID == uuid.Nil {
		return []Team{}, nil
	}
	return s.store.Teams(ctx, p.OrgID)
}

// Get returns one team of p's organisation; any other is apperr.NotFound.
func (s *Service) Get(ctx context.Context, p access.Principal, id string) (*Team, error) {
	tid, err := parseID(id)
	if err != nil {
		return nil, err
	}
	return s.store.Team(ctx, p.OrgID, tid)
}

// Mine returns the teams p is a member of, by name.
func (s *Service) Mine(ctx context.Context, p access.Principal) ([]Team, error) {
	if p.System || p.UserID == uuid.Nil {
		return []Team{}, nil
	}
	return s.store.TeamsOf(ctx, p.UserID)
}

// Create creates a team of p's organisation. Errors: apperr.Invalid naming
// "name", apperr.Forbidden without team.manage, apperr.Conflict for a name
// the organisation has.
func (s *Service) Create(ctx context.Context, p access.Principal, name string) (*Team, error) {
	name, err := checkName(name)
	if err != nil {
		return nil, err
	}
	if err := p.Require(access.ManageTeams); err != nil {
		return nil, forbidden(p, err)
	}
	now := s.clock()
	t := &Team{ID: uuid.New(), OrgID: p.OrgID, Name: name, CreatedAt: now, UpdatedAt: now, Members: []Member{}}
	err = s.store.InTeamTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.InsertTeam(ctx, t); err != nil {
			return err
		}
		return tx.Audit(ctx, entry(p, audit.TeamCreated, t, map[string]any{"name": name}))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Rename renames a team of p's organisation. Errors: those of Create, and
// apperr.NotFound for a team p does not see.
func (s *Service) Rename(ctx context.Context, p access.Principal, id, name string) (*Team, error) {
	name, err := checkName(name)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, p, id, true, func(ctx context.Context, tx Tx, t *Team, now time.Time) error {
		if t.Name == name {
			return nil
		}
		if err := tx.RenameTeam(ctx, t.ID, name, now); err != nil {
			return err
		}
		old := t.Name
		t.Name, t.UpdatedAt = name, now
		return tx.Audit(ctx, entry(p, audit.TeamRenamed, t, map[string]any{"from": old, "to": name}))
	})
}

// Delete deletes a team of p's organisation. A team with open work is
// apperr.Conflict (Details: open_incidents, open_tasks).
func (s *Service) Delete(ctx context.Context, p access.Principal, id string) error {
	_, err := s.change(ctx, p, id, false, func(ctx context.Context, tx Tx, t *Team, _ time.Time) error {
		incs, tasks, err := tx.TeamOpenWork(ctx, t.ID)
		if err != nil {
			return err
		}
		if incs > 0 || tasks > 0 {
			return &apperr.Error{Code: apperr.Conflict,
				Message: "the team has open work: assign its open incidents and unfinished tasks to someone else first",
				Details: map[string]any{"open_incidents": incs, "open_tasks": tasks}}
		}
		if err := tx.DeleteTeam(ctx, t.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, entry(p, audit.TeamDeleted, t, map[string]any{"name": t.Name}))
	})
	return err
}

// AddMember adds a user (an e-mail or a user ID) of p's organisation to a
// team of it. Adding a member again changes nothing. Errors: apperr.Invalid
// naming "email" (no such user, "exists"; another organisation's,
// "same_org"; disabled, "active"; a full team, "max_items"), and those of
// Rename.
func (s *Service) AddMember(ctx context.Context, p access.Principal, id, user string) (*Team, error) {
	user = strings.TrimSpace(user)
	var fs apperr.Fields
	if user == "" {
		fs.Add("email", "required", "email is required")
	} else {
		fs.Text("email", user, 254)
	}
	if err := fs.Err(); err != nil {
		return nil, err
	}
	return s.change(ctx, p, id, true, func(ctx context.Context, tx Tx, t *Team, now time.Time) error {
		c, err := tx.TeamCandidate(ctx, user)
		switch {
		case apperr.Is(err, apperr.NotFound) || (err == nil && c.OrgID != t.OrgID):
			// Another organisation's user is not revealed either.
			return apperr.Fields{{Field: "email", Rule: "same_org", Message: "no user of your organisation has this e-mail"}}.Err()
		case err != nil:
			return err
		case c.Disabled:
			return apperr.Fields{{Field: "email", Rule: "active", Message: "the user is disabled"}}.Err()
		}
		n, err := tx.CountMembers(ctx, t.ID)
		if err != nil {
			return err
		}
		if n >= MaxMembers {
			return apperr.Fields{{Field: "email", Rule: "max_items", Message: "a team has at most 200 members"}}.Err()
		}
		added, err := tx.InsertMember(ctx, t.ID, c.ID, now)
		if err != nil || !added {
			return err
		}
		return tx.Audit(ctx, entry(p, audit.TeamMemberAdded, t, map[string]any{"name": t.Name, "user": c.Email}))
	})
}

// RemoveMember removes a user (by ID) from a team of p's organisation. A
// user who is not a member is apperr.NotFound.
func (s *Service) RemoveMember(ctx context.Context, p access.Principal, id, userID string) (*Team, error) {
	uid, err := uuid.Parse(strings.TrimSpace(userID))
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "member %q not found", userID)
	}
	return s.change(ctx, p, id, true, func(ctx context.Context, tx Tx, t *Team, _ time.Time) error {
		var email string
		for _, m := range t.Members {
			if m.UserID == uid {
				email = m.Email
			}
		}
		removed, err := tx.DeleteMember(ctx, t.ID, uid)
		if err != nil {
			return err
		}
		if !removed {
			return apperr.New(apperr.NotFound, "member %q not found", userID)
		}
		return tx.Audit(ctx, entry(p, audit.TeamMemberRemoved, t, map[string]any{"name": t.Name, "user": email}))
	})
}

// change locks a team of p's organisation (apperr.NotFound for any other:
// it is checked before the role, so that another organisation's team
// looks like none), checks team.manage, runs fn, and returns the team as
// it is afterwards when reread (nil otherwise).
func (s *Service) change(ctx context.Context, p access.Principal, id string, reread bool,
	fn func(ctx context.Context, tx Tx, t *Team, now time.Time) error) (*Team, error) {
	tid, err := parseID(id)
	if err != nil {
		return nil, err
	}
	err = s.store.InTeamTx(ctx, func(ctx context.Context, tx Tx) error {
		t, err := tx.LockTeam(ctx, p.OrgID, tid)
		if err != nil {
			return err
		}
		if err := p.Require(access.ManageTeams); err != nil {
			return forbidden(p, err)
		}
		return fn(ctx, tx, t, s.clock())
	})
	if err != nil || !reread {
		return nil, err
	}
	return s.store.Team(ctx, p.OrgID, tid)
}

// forbidden says why p may not manage teams.
func forbidden(p access.Principal, err error) error {
	if !p.OrgKind.IsCERT() && (p.Role == access.Coordinator || p.Role == access.Admin) {
		return apperr.New(apperr.Forbidden, "only CERTs have teams")
	}
	return err
}

// checkName trims a team's name and checks it.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	var fs apperr.Fields
	switch n := utf8.RuneCountInString(name); {
	case !fs.Text("name", name, 0):
	case n == 0:
		fs.Add("name", "required", "name is required")
	case n > MaxName:
		fs.Add("name", "max_length", "name must be at most %d characters", MaxName)
	}
	return name, fs.Err()
}

// parseID reads a team's ID; anything else is a team that does not exist.
func parseID(id string) (uuid.UUID, error) {
	tid, err := uuid.Parse(strings.TrimSpace(id))
	if err != nil {
		return uuid.Nil, apperr.New(apperr.NotFound, "team %q not found", id)
	}
	return tid, nil
}

func entry(p access.Principal, a audit.Action, t *Team, data map[string]any) audit.Entry {
	data["org_id"] = t.OrgID
	return audit.Entry{ActorUserID: p.UserIDPtr(), Actor: p.Name(), Action: a, TargetType: "team", TargetID: t.ID.String(),
		RemoteAddr: p.RemoteAddr, Data: mustJSON(data)}
}

// mustJSON encodes an audit entry's data: plain maps of strings, IDs and
// numbers, which always encode.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("team: marshal audit data: " + err.Error())
	}
	return b
}
