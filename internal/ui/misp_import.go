package ui

import (
	"io"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/misp"
	"github.com/labstack/echo/v4"
)

// mispImportRoute is the page that imports a MISP event file, as a new
// incident or into an existing one (docs/ui.md, "Importing a MISP event").
const mispImportRoute = "/incidents/import"

// The import's targets: the form's "target" radio.
const (
	mispTargetNew  = "new"
	mispTargetInto = "into"
)

// mispImportView is the import page: its form, and after an import what
// it did.
type mispImportView struct {
	Target  string // mispTargetNew or mispTargetInto
	Into    string // the incident's reference, as typed
	MaxSize string
	MayNew  bool // the person may create incidents
	Result  *mispImportResult
}

// mispImportResult is what an import did, as the page shows it.
type mispImportResult struct {
	Reference, Title string
	TLP              incident.TLP
	Created          bool
	Added, Merged    int
	Skipped          []mispSkippedRow
	UnknownTypes     []string
	IgnoredTags      []string
}

// mispSkippedRow is an attribute that did not become an observable.
type mispSkippedRow struct {
	Type, Category, Value string
	Reason                string // translated
}

func (u *UI) maxImportBytes() int64 {
	if u.o.MaxImportBytes > 0 {
		return u.o.MaxImportBytes
	}
	return 1 << 20
}

// mispImportPage shows the import form. ?into= names the incident whose
// observables the file fills (the link from an incident's observables);
// the reference is only put in the form, not looked up.
func (u *UI) mispImportPage(c echo.Context) error {
	cur := current(c)
	v := mispImportView{Target: mispTargetNew, MayNew: cur.Principal.Can(access.CreateIncident)}
	if into := strings.TrimSpace(c.QueryParam("into")); into != "" || !v.MayNew {
		v.Target, v.Into = mispTargetInto, into
	}
	return u.renderMISPImport(c, http.StatusOK, v, nil)
}

func (u *UI) renderMISPImport(c echo.Context, status int, v mispImportView, errs []fieldError) error {
	p := u.newPage(c, "misp_import", "misp_import.title")
	if v.Result != nil {
		p = u.newPage(c, "misp_import", "misp_import.done_title")
		p.TLP = v.Result.TLP
	}
	v.MaxSize = byteSize(p.L, u.maxImportBytes())
	p.Errors = errs
	p.Data = v
	return u.render(c, status, p)
}

// mispImport reads the form (the CSRF token first, then the target, the
// reference and the file, read up to the import limit) and imports the
// file through the same use cases as the API (misp.Importer): a new
// incident of the person's organisation, or the attributes as
// observables of an incident the person may add observables to. Every
// problem comes back on the form, naming the field; an incident the
// person cannot see is named as not found, whether or not it exists.
func (u *UI) mispImport(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	l := u.locale(c)
	mr, err := u.uploadParts(c)
	if err != nil {
		return err
	}
	v := mispImportView{MayNew: cur.Principal.Can(access.CreateIncident)}
	var data []byte
	chosen := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			return uploadReadError(err)
		}
		switch part.FormName() {
		case "target", "into":
			b, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				return uploadReadError(err)
			}
			if part.FormName() == "target" {
				v.Target = string(b)
			} else {
				v.Into = strings.TrimSpace(string(b))
			}
		case "file":
			if fileName(part) == "" {
				continue // the form was sent without choosing a file
			}
			chosen = true
			max := u.maxImportBytes()
			data, err = io.ReadAll(io.LimitReader(part, max+1))
			if err != nil {
				return uploadReadError(err)
			}
			if int64(len(data)) > max {
				return u.renderMISPImport(c, http.StatusRequestEntityTooLarge, v,
					[]fieldError{{Field: "file", Message: l.T("misp_import.error.too_large", byteSize(l, max))}})
			}
		default:
			if _, err := io.Copy(io.Discard, io.LimitReader(part, uploadEnvelope)); err != nil {
				return uploadReadError(err)
			}
		}
	}
	var errs []fieldError
	switch {
	case v.Target == mispTargetNew && !v.MayNew:
		return apperr.New(apperr.Forbidden, "creating incidents is not among your role's rights")
	case v.Target != mispTargetNew && v.Target != mispTargetInto:
		errs = append(errs, fieldError{Field: "target-" + mispTargetNew, Message: l.T("misp_import.error.target")})
		v.Target = mispTargetNew
	case v.Target == mispTargetInto && v.Into == "":
		errs = append(errs, fieldError{Field: "into", Message: l.T("misp_import.error.into_required")})
	}
	if !chosen {
		errs = append(errs, fieldError{Field: "file", Message: l.T("misp_import.error.file_required")})
	}
	if len(errs) > 0 {
		return u.renderMISPImport(c, http.StatusUnprocessableEntity, v, errs)
	}
	ev, err := misp.Parse(data)
	if err != nil {
		return u.mispImportFailed(c, v, err)
	}
	var res *misp.Result
	if v.Target == mispTargetNew {
		res, err = u.o.MISP.ImportNew(ctx, cur.Principal, ev)
	} else {
		res, err = u.o.MISP.ImportInto(ctx, cur.Principal, v.Into, ev)
	}
	if err != nil {
		return u.mispImportFailed(c, v, err)
	}
	inc := res.Incident
	r := &mispImportResult{Reference: inc.Reference, Title: inc.Title, TLP: inc.TLP, Created: res.Created, Added: res.Added,
		Merged: res.Merged, UnknownTypes: res.UnknownTypes, IgnoredTags: res.IgnoredTags}
	for _, s := range res.Skipped {
		r.Skipped = append(r.Skipped, mispSkippedRow{Type: s.Type, Category: s.Category, Value: s.Value,
			Reason: l.T("misp_import.skip." + s.Reason)})
	}
	v.Result = r
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	return u.renderMISPImport(c, status, v, nil)
}

// mispImportFailed puts an import's error on the form: a file that is
// not a MISP event, an event without info, an incident not found (or not
// visible), or one the person may not add observables to. Other errors
// are the error page's.
func (u *UI) mispImportFailed(c echo.Context, v mispImportView, err error) error {
	l := u.locale(c)
	ae, _ := apperr.As(err)
	switch apperr.CodeOf(err) {
	case apperr.NotFound:
		if v.Target == mispTargetInto {
			return u.renderMISPImport(c, http.StatusNotFound, v, []fieldError{{Field: "into", Message: l.T("misp_import.error.not_found", v.Into)}})
		}
	case apperr.Forbidden:
		if v.Target == mispTargetInto {
			return u.renderMISPImport(c, http.StatusForbidden, v, []fieldError{{Field: "into", Message: l.T("misp_import.error.forbidden", v.Into)}})
		}
	case apperr.Invalid:
		if ae != nil && len(ae.Fields) > 0 {
			var errs []fieldError
			for _, f := range ae.Fields {
				errs = append(errs, fieldError{Field: "file", Message: mispFieldMessage(l.T, f)})
			}
			return u.renderMISPImport(c, http.StatusUnprocessableEntity, v, errs)
		}
	}
	return err
}

// mispFieldMessage translates a parse or import rule the file broke.
func mispFieldMessage(t func(string, ...any) string, f apperr.FieldError) string {
	switch {
	case f.Field == "Event" && f.Rule == "json":
		return t("misp_import.error.json")
	case f.Field == "Event" && f.Rule == "required":
		return t("misp_import.error.no_event")
	case f.Field == "Event.Attribute" && f.Rule == "max_items":
		return t("misp_import.error.too_many", misp.MaxImportAttributes)
	case f.Field == "Event.info":
		return t("misp_import.error.no_info")
	}
	return t("misp_import.error.other", f.Field, f.Message)
}
