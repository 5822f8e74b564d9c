package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The access matrix of the attachment routes (TestAccessMatrix). An
// attachment is visible exactly when its incident is; uploading needs the
// write table's evidence.add on an incident the caller sees.

// secAttachment is the attachment seeded on each matrix incident.
type secAttachment struct {
	ID, Filename string
	Content      []byte
}

// secAttach uploads one attachment to each incident as by (its reporter,
// a participant of every TLP) and returns them by TLP.
func secAttach(t *testing.T, h *testapp.Harness, by secUser, incs []*secIncident) map[incident.TLP]*secAttachment {
	t.Helper()
	out := map[incident.TLP]*secAttachment{}
	for _, inc := range incs {
		a := &secAttachment{Filename: "matrix-" + strings.NewReplacer(":", "-", "+", "-").Replace(string(inc.TLP)) + ".txt",
			Content: []byte("matrix evidence of " + inc.Ref)}
		body, ct := multipartBody(filePart(a.Filename, a.Content))
		r := h.As(by.Token).Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/attachments", body, "Content-Type", ct)
		require.Equal(t, http.StatusCreated, r.Status, "attach to %s: %s", inc.Ref, r.Body)
		var b struct{ ID string }
		r.JSON(t, &b)
		a.ID = b.ID
		out[inc.TLP] = a
	}
	return out
}

// attachmentCase builds the probes of one attachment route: "list",
// "metadata", "content" or "upload". incidentFor is the route table's
// expectation of reading the target incident.
func (w *matrixWorld) attachmentCase(route string, incidentFor func(v secUser, target string) (*secIncident, int)) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		incID, ref := uuid.NewString(), "INC-1999-999999"
		att := &secAttachment{ID: uuid.NewString(), Filename: "no-such-attachment.txt", Content: []byte("no such content")}
		other := w.atts[incident.TLPClear] // an attachment of another incident
		if inc != nil {
			incID, ref, att = inc.ID, inc.Ref, w.atts[inc.TLP]
			if inc.TLP == incident.TLPClear {
				other = w.atts[incident.TLPGreen]
			}
		}
		base := "/api/v1/incidents/" + incID + "/attachments"
		hidden := func(r *testapp.Response) string {
			// (The problem's instance repeats the path, IDs included.)
			if r.Status == http.StatusNotFound && (bytes.Contains(r.Body, []byte(att.Filename)) || bytes.Contains(r.Body, att.Content)) {
				return "the 404 shows the attachment"
			}
			return ""
		}
		switch route {
		case "list":
			check := func(r *testapp.Response) string {
				if r.Status != http.StatusOK {
					return hidden(r) + isProblem(r)
				}
				var l struct {
					Attachments []struct {
						ID         string `json:"id"`
						IncidentID string `json:"incident_id"`
					} `json:"attachments"`
				}
				_ = json.Unmarshal(r.Body, &l)
				found := false
				for _, a := range l.Attachments {
					found = found || a.ID == att.ID
					if a.IncidentID != incID {
						return "lists an attachment of incident " + a.IncidentID
					}
				}
				if !found {
					return "the incident's attachment is not listed"
				}
				return ""
			}
			return []secProbe{
				{path: base, want: read, check: check, variant: "(uuid)"},
				{path: "/api/v1/incidents/" + ref + "/attachments", want: read, check: check, variant: "(reference)"},
			}
		case "metadata", "content":
			suffix := ""
			if route == "content" {
				suffix = "/content"
			}
			check := func(r *testapp.Response) string {
				if r.Status != http.StatusOK {
					return hidden(r) + isProblem(r)
				}
				if route == "metadata" {
					var a struct{ ID, Filename string }
					_ = json.Unmarshal(r.Body, &a)
					if a.ID != att.ID || a.Filename != att.Filename {
						return fmt.Sprintf("answered with %s (%s)", a.ID, a.Filename)
					}
					return ""
				}
				switch {
				case !bytes.Equal(r.Body, att.Content):
					return "other bytes"
				case r.Header.Get("Content-Type") != "application/octet-stream", r.Header.Get("X-Content-Type-Options") != "nosniff",
					!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment;"):
					return "not served as a download"
				}
				return ""
			}
			return []secProbe{
				{path: base + "/" + att.ID + suffix, want: read, check: check, variant: "(uuid)"},
				// Another incident's attachment through this incident's path:
				// never, whoever asks.
				{path: base + "/" + other.ID + suffix, want: http.StatusNotFound, check: problemUnlessOK, variant: "(another incident's attachment)"},
			}
		case "upload":
			want := read
			if read == http.StatusOK {
				want = http.StatusCreated
				if !w.tree.mayWrite(v, inc, access.AddEvidence) {
					want = http.StatusForbidden
				}
			}
			// The incident and the role are checked before the body: a body
			// without a file is 422 only for those who may upload.
			noFile := want
			if noFile == http.StatusCreated {
				noFile = http.StatusUnprocessableEntity
			}
			file, fileCT := multipartBody(filePart(fmt.Sprintf("by-%s-%s.txt", v.OrgSlug, v.Role), []byte("matrix upload")))
			empty, emptyCT := multipartBody(fieldPart("description", "no file"))
			return []secProbe{
				{path: base, body: file, header: []string{"Content-Type", fileCT}, want: want, check: func(r *testapp.Response) string {
					if r.Status != http.StatusCreated {
						return isProblem(r)
					}
					var a struct {
						IncidentID string `json:"incident_id"`
						UploadedBy string `json:"uploaded_by"`
					}
					_ = json.Unmarshal(r.Body, &a)
					if a.IncidentID != incID || a.UploadedBy != v.Email {
						return fmt.Sprintf("stored on %s by %s", a.IncidentID, a.UploadedBy)
					}
					return ""
				}, variant: "(uuid)"},
				{path: base, body: empty, header: []string{"Content-Type", emptyCT}, want: noFile, check: func(r *testapp.Response) string {
					if r.Status == http.StatusUnprocessableEntity {
						return fieldIs("file")(r)
					}
					return isProblem(r)
				}, variant: "(no file)"},
			}
		}
		panic("unknown attachment route " + route)
	}
}

// problemUnlessOK checks that anything but a 200 is a problem document.
func problemUnlessOK(r *testapp.Response) string {
	if r.Status != http.StatusOK {
		return isProblem(r)
	}
	return ""
}
