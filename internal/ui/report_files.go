package ui

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/labstack/echo/v4"
)

// filesView is the data of the guided report's files page.
type filesView struct {
	DraftID string
	Files   []fileRow
	Back    string
	Change  bool
	MaxSize string
	Max     int
	Full    bool
	Saved   string
}

type fileRow struct {
	Name   string
	Size   string
	Remove string // the remove form's action
}

// reportFilesRoute is the guided report's upload route, which has its own
// body and time limits (OwnLimits).
const reportFilesRoute = "/report/:draft/files/add"

// errNoFile: the files form was sent without a file.
var errNoFile = errors.New("no file chosen")

// reportFiles shows the files step: the files uploaded so far, each with
// a Remove button, an upload form (a plain multipart form post), and
// Continue (files are optional).
func (u *UI) reportFiles(c echo.Context) error {
	d, err := u.o.Filings.Draft(c.Request().Context(), current(c).Principal, c.Param("draft"))
	if err != nil {
		return err
	}
	if d.SubmittedAt != nil {
		return u.sentRedirect(c, d)
	}
	return u.renderFiles(c, http.StatusOK, d, nil, "")
}

func (u *UI) renderFiles(c echo.Context, status int, d *filing.Draft, errs []fieldError, notice string) error {
	p := u.newPage(c, "report_files", "report.q.files")
	p.Errors, p.Notice, p.TLP = errs, notice, draftTLP(d)
	id := d.ID.String()
	change := c.QueryParam("change") == "1"
	v := filesView{DraftID: id, Change: change, MaxSize: byteSize(p.L, u.o.Evidence.MaxBytes()), Max: filing.MaxFiles,
		Full: len(d.Files) >= filing.MaxFiles}
	if len(d.Done) > 0 || len(d.Files) > 0 {
		v.Saved = p.L.T("report.saved_by", d.UpdatedByName, p.L.When(d.UpdatedAt))
	}
	for i, f := range d.Files {
		v.Files = append(v.Files, fileRow{Name: f.Filename, Size: byteSize(p.L, f.Size),
			Remove: "/report/" + id + "/files/" + strconv.Itoa(i) + "/remove"})
	}
	if change {
		v.Back = "/report/" + id + "/" + filing.StepCheck
	} else {
		v.Back = "/report/" + id + "/" + filing.Previous(filing.StepFiles, d.Answers)
	}
	p.Data = v
	return u.render(c, status, p)
}

// byteSize writes a size for people: "340 KB", "2.5 MB".
func byteSize(l i18n.Locale, n int64) string {
	switch {
	case n >= 1<<20:
		return l.T("report.size.mb", (n+(1<<19))>>20)
	case n >= 1<<10:
		return l.T("report.size.kb", n>>10)
	}
	return l.T("report.size.b", n)
}

// reportFileAdd uploads one file for the report and shows the files page
// again with it listed.
func (u *UI) reportFileAdd(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	d, err := u.o.Filings.Draft(ctx, cur.Principal, c.Param("draft"))
	if err != nil {
		return err
	}
	l := u.locale(c)
	// The form streams: the CSRF token first (uploadParts), then the
	// "change" flag when set, then the file, never held in memory.
	mr, err := u.uploadParts(c)
	if err != nil {
		return err
	}
	change := false
	var fileErr error = errNoFile
	for {
		part, perr := mr.NextPart()
		if perr == io.EOF {
			break
		} else if perr != nil {
			return uploadReadError(perr)
		}
		if part.FormName() == "change" {
			change = true
			continue
		}
		if part.FormName() != "file" {
			continue
		}
		if fileName(part) == "" { // the form was sent without choosing a file
			break
		}
		_, fileErr = u.o.Filings.AddFile(ctx, cur.Principal, c.Param("draft"), evidence.NewAttachment{Filename: fileName(part),
			ContentType: part.Header.Get("Content-Type")}, &evidence.LastPart{Part: part, Form: mr, More: errFileNotLast})
		break
	}
	if errors.Is(fileErr, errNoFile) {
		return u.renderFiles(c, http.StatusUnprocessableEntity, d, []fieldError{{Field: "file", Message: l.T("report.error.file.required")}}, "")
	}
	err = fileErr
	var tooLarge *evidence.TooLargeError
	switch {
	case errors.As(err, &tooLarge), errors.As(err, new(*http.MaxBytesError)):
		return u.renderFiles(c, http.StatusRequestEntityTooLarge, d,
			[]fieldError{{Field: "file", Message: l.T("report.error.file.too_large", byteSize(l, u.o.Evidence.MaxBytes()))}}, "")
	case apperr.Is(err, apperr.Conflict):
		ae, _ := apperr.As(err)
		return u.toSent(c, ae)
	}
	if errs, rerr := u.reportErrors(l, err); rerr != nil {
		return rerr
	} else if errs != nil {
		return u.renderFiles(c, http.StatusUnprocessableEntity, d, errs, "")
	}
	q := ""
	if change {
		q = "?change=1"
	}
	return c.Redirect(http.StatusSeeOther, "/report/"+d.ID.String()+"/"+filing.StepFiles+q)
}

// reportFileRemove removes one file from the report.
func (u *UI) reportFileRemove(c echo.Context) error {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return notFoundPage()
	}
	d, err := u.o.Filings.RemoveFile(c.Request().Context(), current(c).Principal, c.Param("draft"), n)
	if ae, ok := apperr.As(err); ok && ae.Code == apperr.Conflict {
		return u.toSent(c, ae)
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/report/"+d.ID.String()+"/"+filing.StepFiles)
}

// reportFilesDone passes the files step (Continue).
func (u *UI) reportFilesDone(c echo.Context) error {
	d, err := u.o.Filings.FilesDone(c.Request().Context(), current(c).Principal, c.Param("draft"))
	if ae, ok := apperr.As(err); ok && ae.Code == apperr.Conflict {
		return u.toSent(c, ae)
	} else if err != nil {
		return err
	}
	id := d.ID.String()
	switch {
	case c.FormValue("later") != "":
		return c.Redirect(http.StatusSeeOther, "/report?done=saved")
	case c.FormValue("change") == "1":
		return c.Redirect(http.StatusSeeOther, "/report/"+id+"/"+continueStep(d))
	}
	return c.Redirect(http.StatusSeeOther, "/report/"+id+"/"+filing.Next(filing.StepFiles, d.Answers))
}
