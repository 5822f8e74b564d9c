package ui

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/labstack/echo/v4"
)

// JobsPrefix is where River's web UI of the background jobs is served
// (Options.Jobs; docs/operations.md, "Background jobs").
const JobsPrefix = "/admin/jobs"

// maxJobsBody bounds the body of a change to the job queue (River's UI
// sends a list of job IDs or a queue's settings).
const maxJobsBody = 64 << 10

// jobs serves River's web UI to the national CERT's administrators
// (access.OperateJobs; anyone else gets the "not allowed" page). A request
// that changes the queue (retry, cancel or delete jobs; pause, resume or
// change a queue: every method but GET and HEAD) is written to the audit
// log, with its method and body, before River acts on it: when the entry
// cannot be written, nothing is changed.
func (u *UI) jobs(c echo.Context) error {
	p := current(c).Principal
	if err := p.Require(access.OperateJobs); err != nil {
		return err
	}
	r := c.Request()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxJobsBody+1))
		if err != nil {
			return apperr.New(apperr.Malformed, "the request's body could not be read")
		}
		if len(body) > maxJobsBody {
			return apperr.New(apperr.Invalid, "the request's body is larger than %d bytes", maxJobsBody)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		data := map[string]any{"method": r.Method}
		if json.Valid(body) {
			data["request"] = json.RawMessage(body)
		}
		b, _ := json.Marshal(data)
		if err := u.o.Audit.Record(r.Context(), p, audit.Entry{Action: audit.JobsOperated, TargetType: "jobs",
			TargetID: r.URL.Path, Data: b}); err != nil {
			return err
		}
	}
	u.o.Jobs.ServeHTTP(c.Response(), r)
	return nil
}
