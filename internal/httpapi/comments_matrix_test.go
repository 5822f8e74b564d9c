package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The comment routes of TestAccessMatrix. The rule (design.md §2, the
// issue): comments have their incident's visibility — an incident one does
// not see is a 404 on every comment route; whoever sees it reads its
// comments and their history; a role with incident.comment posts; only a
// comment's author edits it (403 for everyone else who sees it).

// matrixComments are the comments the matrix seeds.
type matrixComments struct {
	// byReporter: per incident, a comment of city-a's reporter (the
	// reporting user, a participant of every incident, TLP:RED included).
	byReporter map[incident.TLP]string
	reporter   secUser
	// own: per viewer and incident, the viewer's own comment, for every
	// viewer whose role may comment and who sees the incident.
	own map[string]string
}

func ownKey(v secUser, tlp incident.TLP) string { return v.ID.String() + "/" + string(tlp) }

func seedMatrixComments(t *testing.T, w *matrixWorld) *matrixComments {
	t.Helper()
	mc := &matrixComments{byReporter: map[incident.TLP]string{}, own: map[string]string{}, reporter: w.users["city-a"][access.Reporter]}
	post := func(u secUser, inc *secIncident) string {
		r := w.h.As(u.Token).Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/comments",
			map[string]any{"body": fmt.Sprintf("seeded by %s/%s on %s", u.OrgSlug, u.Role, inc.TLP)})
		require.Equal(t, http.StatusCreated, r.Status, "seed a comment as %s/%s on %s: %s", u.OrgSlug, u.Role, inc.TLP, r.Body)
		var c struct{ ID string }
		r.JSON(t, &c)
		return c.ID
	}
	for _, tlp := range secTLPs {
		mc.byReporter[tlp] = post(mc.reporter, w.incs[tlp])
	}
	for _, v := range w.viewers {
		for _, tlp := range secTLPs {
			if secMay("incident.comment", v.Role) && w.tree.sees(v.ID, v.OrgSlug, w.incs[tlp]) {
				mc.own[ownKey(v, tlp)] = post(v, w.incs[tlp])
			}
		}
	}
	return mc
}

// otherTLP is an incident other than tlp's, whose comments must not be
// reachable under tlp's incident.
func otherTLP(tlp incident.TLP) incident.TLP {
	if tlp == incident.TLPClear {
		return incident.TLPGreen
	}
	return incident.TLPClear
}

func commentProblemUnless(ok int) func(r *testapp.Response) string {
	return func(r *testapp.Response) string {
		if r.Status != ok {
			return isProblem(r)
		}
		return ""
	}
}

// commentIs checks a 200/201 comment answer: the incident, the author and the body.
func commentIs(incID, author, body string) func(r *testapp.Response) string {
	return func(r *testapp.Response) string {
		if r.Status >= 300 {
			return isProblem(r)
		}
		var c struct{ IncidentID, Author, Body string }
		var raw map[string]any
		_ = json.Unmarshal(r.Body, &raw)
		c.IncidentID, _ = raw["incident_id"].(string)
		c.Author, _ = raw["author"].(string)
		c.Body, _ = raw["body"].(string)
		if c.IncidentID != incID || (author != "" && c.Author != author) || c.Body != body {
			return fmt.Sprintf("answered comment of %s by %s: %q", c.IncidentID, c.Author, c.Body)
		}
		return ""
	}
}

func (w *matrixWorld) postCommentProbes(incidentFor incidentForFunc) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		ref, id := "INC-1999-999999", uuid.NewString()
		want := http.StatusNotFound
		if inc != nil {
			ref, id = inc.Ref, inc.ID
			switch {
			case read == http.StatusNotFound:
			case !secMay("incident.comment", v.Role):
				want = http.StatusForbidden
			default:
				want = http.StatusCreated
			}
		}
		body := fmt.Sprintf("matrix comment by %s/%s #%d", v.OrgSlug, v.Role, w.next())
		return []secProbe{
			{path: "/api/v1/incidents/" + ref + "/comments", body: map[string]any{"body": body}, want: want,
				check: commentIs(id, v.Email, body), variant: "(reference)"},
			// The body is checked first, for everyone: it reveals nothing.
			{path: "/api/v1/incidents/" + id + "/comments", body: map[string]any{"body": " "},
				want: http.StatusUnprocessableEntity, check: fieldIs("body"), variant: "(blank body)"},
		}
	}
}

func (w *matrixWorld) editCommentProbes(incidentFor incidentForFunc) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		body := fmt.Sprintf("edited by %s/%s #%d", v.OrgSlug, v.Role, w.next())
		if inc == nil {
			return []secProbe{{path: "/api/v1/incidents/" + uuid.NewString() + "/comments/" + uuid.NewString(),
				body: map[string]any{"body": body}, want: http.StatusNotFound, check: commentProblemUnless(0)}}
		}
		tlp := incident.TLP(target)
		base := "/api/v1/incidents/" + inc.ID + "/comments/"
		// The rule for someone else's comment, and for a comment of another
		// incident: invisible 404, then the role, then authorship.
		others := http.StatusNotFound
		if read != http.StatusNotFound {
			others = http.StatusForbidden
			if secMay("incident.comment", v.Role) && v.ID == w.comments.reporter.ID {
				others = http.StatusOK // the reporter wrote it
			}
		}
		foreign := http.StatusNotFound // not a comment of this incident...
		if read != http.StatusNotFound && !secMay("incident.comment", v.Role) {
			foreign = http.StatusForbidden // ...but the role is checked first
		}
		probes := []secProbe{
			{path: base + w.comments.byReporter[tlp], body: map[string]any{"body": body}, want: others,
				check: commentIs(inc.ID, "", body), variant: "(the reporter's)"},
			{path: base + w.comments.byReporter[otherTLP(tlp)], body: map[string]any{"body": body}, want: foreign,
				check: commentProblemUnless(0), variant: "(another incident's)"},
			{path: base + w.comments.byReporter[tlp], body: map[string]any{"body": ""},
				want: http.StatusUnprocessableEntity, check: fieldIs("body"), variant: "(blank body)"},
		}
		if own, ok := w.comments.own[ownKey(v, tlp)]; ok {
			probes = append(probes, secProbe{path: base + own, body: map[string]any{"body": body}, want: http.StatusOK,
				check: commentIs(inc.ID, v.Email, body), variant: "(own)"})
		}
		return probes
	}
}

func (w *matrixWorld) commentRevisionProbes(incidentFor incidentForFunc) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		if inc == nil {
			return []secProbe{{path: "/api/v1/incidents/" + uuid.NewString() + "/comments/" + uuid.NewString() + "/revisions",
				want: http.StatusNotFound, check: commentProblemUnless(0)}}
		}
		tlp := incident.TLP(target)
		base := "/api/v1/incidents/"
		check := func(r *testapp.Response) string {
			var l struct{ IncidentID, CommentID string }
			var raw map[string]any
			_ = json.Unmarshal(r.Body, &raw)
			l.IncidentID, _ = raw["incident_id"].(string)
			l.CommentID, _ = raw["comment_id"].(string)
			if r.Status == http.StatusOK && (l.IncidentID != inc.ID || l.CommentID != w.comments.byReporter[tlp]) {
				return "the answer is not about the comment asked for"
			}
			return commentProblemUnless(http.StatusOK)(r)
		}
		return []secProbe{
			{path: base + inc.ID + "/comments/" + w.comments.byReporter[tlp] + "/revisions", want: read, check: check, variant: "(uuid)"},
			{path: base + inc.Ref + "/comments/" + w.comments.byReporter[tlp] + "/revisions", want: read, check: check, variant: "(reference)"},
			{path: base + inc.ID + "/comments/" + w.comments.byReporter[otherTLP(tlp)] + "/revisions", want: http.StatusNotFound,
				check: commentProblemUnless(0), variant: "(another incident's)"},
		}
	}
}
