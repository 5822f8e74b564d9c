package access

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/stretchr/testify/require"
)

// TestWriteTableIsDocumented keeps the write table of docs/security.md
// ("The write table") equal to writes: every write is one row, and each
// relation's cell names the roles the code allows. The document is the
// table reviewers read; a change to the code without the document (or the
// other way round) fails here and prints the row to write.
func TestWriteTableIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/security.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(doc), "\n### The write table\n")
	require.True(t, ok, `docs/security.md has no "### The write table" section`)

	// The header names the relations in AllRelations' order.
	var header []string
	rows := map[Action][]string{}
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "#") {
			break // the next section
		}
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if header == nil {
			header = cells
			continue
		}
		if strings.HasPrefix(cells[0], "---") {
			continue
		}
		a := Action(strings.Trim(cells[0], "`"))
		require.NotContains(t, rows, a, "%s has two rows", a)
		rows[a] = cells[1:]
	}
	require.NotNil(t, header, "the write table has no header")
	for i, r := range AllRelations {
		require.Greater(t, len(header), i+1)
		require.Equal(t, r.String(), header[i+1], "column %d of the write table", i+1)
	}
	for _, a := range Writes() {
		want := make([]string, len(AllRelations))
		for i, r := range AllRelations {
			want[i] = roleCell(a, writes[a][r])
		}
		got, ok := rows[a]
		require.True(t, ok, "docs/security.md's write table has no row for %s; add:\n| `%s` | %s |", a, a, strings.Join(want, " | "))
		require.GreaterOrEqual(t, len(got), len(want), "the row of %s is short", a)
		require.Equal(t, want, got[:len(want)], "the row of %s in docs/security.md differs from the code; it should be:\n| `%s` | %s |",
			a, a, strings.Join(want, " | "))
		delete(rows, a)
	}
	require.Empty(t, rows, "docs/security.md's write table has rows for writes the code does not have")
}

// roleCell is how the document writes the roles of one cell.
func roleCell(a Action, roles []Role) string {
	sorted := slices.Clone(roles)
	slices.Sort(sorted)
	same := func(rs []Role) bool {
		c := slices.Clone(rs)
		slices.Sort(c)
		return slices.Equal(sorted, c)
	}
	switch {
	case len(roles) == 0:
		return "—"
	case a == ApproveStep && same(Roles):
		return "the step's role, admin"
	case same(authors):
		return "all but viewer"
	case same(workers):
		return "resp+"
	case same(deciders):
		return "coord+"
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// TestWriteTable checks rules of the table that the security review asked
// for, written out (findings 4 and 5 of issue 10), and how several
// relations combine.
func TestWriteTable(t *testing.T) {
	p := func(r Role) Principal { return Principal{Role: r, Email: string(r) + "@example.org"} }
	for _, tc := range []struct {
		name string
		p    Principal
		a    Action
		rels Relations
		want bool
	}{
		// Reporters change only their own organisation's reports (finding 4).
		{"reporter of the reporting organisation creates tasks", p(Reporter), WriteTask, Of(Reporting), true},
		{"reporter of a partner shared with creates no task", p(Reporter), WriteTask, Of(SharedWith), false},
		{"reporter of a CERT above adds no indicator", p(Reporter), AddObservable, Of(CERTAbove), false},
		{"reporter of the coordinating CERT deletes no indicator", p(Reporter), ChangeObservable, Of(Coordinating, CERTAbove), false},
		{"reporter named participant uploads no evidence", p(Reporter), AddEvidence, Of(Participant), false},
		{"the reporting user (participant too) uploads evidence", p(Reporter), AddEvidence, Of(Reporting, Participant), true},
		{"reporter of a city shared with comments", p(Reporter), CommentIncident, Of(SharedWith), true},
		// Approvals belong to the coordinating organisation (finding 5).
		{"coordinator of a partner shared with approves nothing", p(Coordinator), ApproveStep, Of(SharedWith), false},
		{"coordinator of a CERT above approves nothing", p(Coordinator), ApproveStep, Of(CERTAbove), false},
		{"coordinator of the coordinating CERT approves", p(Coordinator), ApproveStep, Of(Coordinating, CERTAbove), true},
		{"responder shared with answers no input", p(Responder), AnswerInput, Of(SharedWith), false},
		{"responder escalated to answers inputs", p(Responder), AnswerInput, Of(EscalatedTo), true},
		// Who passes an incident on: its owners.
		{"responder shared with shares nothing", p(Responder), ShareIncident, Of(SharedWith, Participant), false},
		{"responder of a CERT above shares", p(Responder), ShareIncident, Of(CERTAbove), true},
		{"shared with adds indicators", p(Responder), AddObservable, Of(SharedWith), true},
		{"shared with removes none", p(Responder), ChangeObservable, Of(SharedWith), false},
		{"escalated to closes nothing", p(Coordinator), TransitionIncident, Of(EscalatedTo), false},
		{"viewer of the coordinating organisation writes nothing", p(Viewer), AddTimelineEntry, Of(Coordinating), false},
		{"no relation, no write", p(Admin), CommentIncident, 0, false},
		{"decisions: the receiving organisation's coordinator", p(Coordinator), DecideEscalation, Of(EscalatedTo), true},
		{"decisions: not its responder", p(Responder), DecideEscalation, Of(EscalatedTo), false},
		{"decisions: not the requesting side", p(Admin), DecideEscalation, Of(Coordinating), false},
		{"System writes everything", System, ShareIncident, 0, true},
		{"not a write", p(Admin), ManageOrgs, Of(Reporting, Coordinating), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.p.MayWrite(tc.a, tc.rels))
			err := tc.p.RequireWrite(tc.a, tc.rels)
			if tc.want {
				require.NoError(t, err)
			} else {
				require.True(t, apperr.Is(err, apperr.Forbidden), "%v", err)
			}
		})
	}
}

func TestRequireWriteSaysWhy(t *testing.T) {
	err := Principal{Role: Viewer}.RequireWrite(WriteTask, Of(Reporting))
	require.Equal(t, "your role (viewer) may not do task.write", message(err))
	err = Principal{Role: Reporter}.RequireWrite(WriteTask, Of(SharedWith))
	require.Equal(t, "a reporter may do task.write on an incident only as its reporting organisation; your relation to this incident: organisation shared with", message(err))
	err = Principal{Role: Responder}.RequireWrite(ShareIncident, Of(EscalatedTo, Participant))
	require.Equal(t, "a responder may do incident.share on an incident only as its reporting organisation, coordinating organisation or CERT above the reporter; your relation to this incident: organisation escalated to, named participant", message(err))
}

// message is the message of an apperr.Error, without its code.
func message(err error) string {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return fmt.Sprint(err)
	}
	return e.Message
}

func TestRequireApprover(t *testing.T) {
	rels := Of(Coordinating)
	require.NoError(t, Principal{Role: Coordinator}.RequireApprover(rels, Coordinator, "contain"))
	require.NoError(t, Principal{Role: Admin}.RequireApprover(rels, Coordinator, "contain"))
	require.NoError(t, Principal{Role: Viewer}.RequireApprover(rels, Viewer, "sign-off"), "a step may name leadership")
	require.NoError(t, System.RequireApprover(0, Coordinator, "contain"))
	err := Principal{Role: Responder}.RequireApprover(rels, Coordinator, "contain")
	require.Equal(t, "only a coordinator (or an admin) of the coordinating organisation may decide step contain", message(err))
	err = Principal{Role: Admin}.RequireApprover(Of(CERTAbove, SharedWith), Coordinator, "contain")
	require.True(t, apperr.Is(err, apperr.Forbidden), "%v", err)
}

func TestCanForWrites(t *testing.T) {
	require.True(t, Principal{Role: Reporter}.Can(WriteTask), "a reporter writes tasks somewhere: its own reports")
	require.False(t, Principal{Role: Viewer}.Can(WriteTask))
	require.False(t, Principal{Role: Reporter}.Can(ShareIncident))
	require.True(t, Principal{Role: Viewer}.Can(ApproveStep), "a step may name any role")
	require.Len(t, Actions(), len(matrix)+len(writes))
	require.Equal(t, "none", Relations(0).String())
	require.Equal(t, []Relation{Coordinating, CERTAbove}, Of(CERTAbove, Coordinating).List())
}
