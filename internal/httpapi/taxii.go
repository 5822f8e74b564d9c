package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/stix"
	"github.com/certdesk/certdesk/internal/taxii"
	"github.com/labstack/echo/v4"
)

// The TAXII 2.1 server (internal/taxii, docs/taxii.md): discovery, one API
// root, its collections, their objects and manifests. Its answers are
// TAXII resources in application/taxii+json;version=2.1, its errors TAXII
// error messages in the same media type (not problem+json), and it takes
// the API's bearer tokens.

// taxiiRoot is the path of the one API root.
const taxiiRoot = "/taxii2/certdesk/"

// mountTAXII adds the TAXII routes.
func (h *handlers) mountTAXII(e *echo.Echo) {
	g := e.Group("/taxii2", noStore, h.taxiiErrors, taxiiTokenScheme, h.authenticate, taxiiAccept)
	g.GET("/", h.taxiiDiscovery)
	g.GET("/certdesk/", h.taxiiAPIRoot)
	g.GET("/certdesk/collections/", h.taxiiCollections)
	g.GET("/certdesk/collections/:collection/", h.taxiiCollection)
	g.GET("/certdesk/collections/:collection/objects/", h.taxiiObjects)
	g.GET("/certdesk/collections/:collection/objects/:object/", h.taxiiObject)
	g.GET("/certdesk/collections/:collection/objects/:object/versions/", h.taxiiVersions)
	g.GET("/certdesk/collections/:collection/manifest/", h.taxiiManifest)
	// Every collection is read-only (can_write false): adding and deleting
	// objects answer 403 where the collection is visible, else 404.
	g.POST("/certdesk/collections/:collection/objects/", h.taxiiReadOnly)
	g.DELETE("/certdesk/collections/:collection/objects/:object/", h.taxiiReadOnly)
	g.RouteNotFound("/*", func(echo.Context) error { return apperr.New(apperr.NotFound, "no TAXII resource here") })
}

// taxiiError is a TAXII error message.
type taxiiError struct {
	Title       string            `json:"title"`
	Description string            `json:"description,omitempty"`
	HTTPStatus  string            `json:"http_status"`
	Details     map[string]string `json:"details,omitempty"`
}

// taxiiErrors renders every error of a TAXII route as a TAXII error
// message, with the status the API would give it.
func (h *handlers) taxiiErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		if h.o.Unavailable != nil && apperr.CodeOf(err) == apperr.Internal {
			if ue := h.o.Unavailable(err); ue != nil {
				err = ue
			}
		}
		var he *echo.HTTPError
		te := taxiiError{}
		status := http.StatusInternalServerError
		switch {
		case errors.As(err, &he):
			status = he.Code
			if m, ok := he.Message.(string); ok && status < 500 {
				te.Description = m
			}
		case errors.Is(err, context.DeadlineExceeded):
			status, te.Description = http.StatusServiceUnavailable, "the request took too long; try again"
		default:
			code := apperr.CodeOf(err)
			status = statusOf[code]
			if code == apperr.Invalid {
				status = http.StatusBadRequest // TAXII's answer to a request it cannot take
			}
			if ae, ok := apperr.As(err); ok && code != apperr.Internal {
				te.Description = ae.Message
				for _, f := range ae.Fields {
					if te.Details == nil {
						te.Details = map[string]string{}
					}
					te.Details[f.Field] = f.Message
				}
				if ae.RetryAfter > 0 {
					c.Response().Header().Set("Retry-After", strconv.Itoa(int(ae.RetryAfter.Seconds()+0.999)))
				}
			}
		}
		if status >= 500 {
			h.o.Logger.ErrorContext(c.Request().Context(), "TAXII request failed", "err", err,
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "path", c.Request().URL.Path)
			if status == http.StatusInternalServerError {
				te.Description = "an internal error occurred; it has been logged with the request ID"
			}
		}
		if status == http.StatusServiceUnavailable && c.Response().Header().Get("Retry-After") == "" {
			c.Response().Header().Set("Retry-After", strconv.Itoa(defaultRetryAfter))
		}
		if status == http.StatusUnauthorized {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="certdesk"`)
		}
		te.Title, te.HTTPStatus = http.StatusText(status), strconv.Itoa(status)
		return taxiiJSON(c, status, te)
	}
}

// taxiiTokenScheme takes the API token also in the scheme taxii2-client's
// TokenAuth sends ("Authorization: Token <token>"), as if it were a bearer
// token: the same token, the same checks.
func taxiiTokenScheme(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		scheme, token, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if ok && strings.EqualFold(scheme, "Token") {
			c.Request().Header.Set(echo.HeaderAuthorization, "Bearer "+strings.TrimSpace(token))
		}
		return next(c)
	}
}

// taxiiAccept answers 406 unless the client accepts the TAXII 2.1 media
// type: application/taxii+json with version 2.1 or none (the latest), or
// a wildcard, or no Accept at all.
func taxiiAccept(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !acceptsTAXII(c.Request().Header.Values(echo.HeaderAccept)) {
			return echo.NewHTTPError(http.StatusNotAcceptable, "this server answers "+taxii.MediaType)
		}
		return next(c)
	}
}

func acceptsTAXII(values []string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					continue
				}
			}
			switch mt {
			case "*/*", "application/*":
				return true
			case "application/taxii+json":
				if ver, ok := params["version"]; !ok || ver == "2.1" {
					return true
				}
			}
		}
	}
	return false
}

func taxiiJSON(c echo.Context, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return c.Blob(status, taxii.MediaType, buf.Bytes())
}

// baseURL is certdesk's public URL: the configured one, else the request's.
func (h *handlers) baseURL(c echo.Context) string {
	if h.o.BaseURL != "" {
		return strings.TrimRight(h.o.BaseURL, "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}

func (h *handlers) taxiiDiscovery(c echo.Context) error {
	root := h.baseURL(c) + taxiiRoot
	return taxiiJSON(c, http.StatusOK, map[string]any{
		"title":       "certdesk",
		"description": "Incidents, indicators and observed data your organisation may see, as STIX 2.1, one collection per reporting organisation.",
		"default":     root,
		"api_roots":   []string{root},
	})
}

func (h *handlers) taxiiAPIRoot(c echo.Context) error {
	maxBytes := h.o.MaxBodyBytes
	if maxBytes <= 0 {
		maxBytes = 1 << 20
	}
	return taxiiJSON(c, http.StatusOK, map[string]any{
		"title":              "certdesk",
		"description":        "The incidents your organisation may see, one collection per reporting organisation (docs/taxii.md).",
		"versions":           []string{taxii.MediaType},
		"max_content_length": maxBytes,
	})
}

func (h *handlers) taxiiCollections(c echo.Context) error {
	if err := taxiiParams(c); err != nil {
		return err
	}
	cs, err := h.o.TAXII.Collections(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	out := map[string]any{}
	if len(cs) > 0 {
		out["collections"] = cs
	}
	return taxiiJSON(c, http.StatusOK, out)
}

func (h *handlers) taxiiCollection(c echo.Context) error {
	if err := taxiiParams(c); err != nil {
		return err
	}
	col, err := h.o.TAXII.Collection(c.Request().Context(), principal(c), c.Param("collection"))
	if err != nil {
		return err
	}
	return taxiiJSON(c, http.StatusOK, col)
}

// taxiiParams refuses query parameters the route does not take (a TAXII
// 400), like the API's knownQuery.
func taxiiParams(c echo.Context, allowed ...string) error {
	var fs apperr.Fields
	names := make([]string, 0, len(c.QueryParams()))
	for name := range c.QueryParams() {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			fs.Add(name, "unknown_parameter", "%s is not a parameter of this resource", name)
		}
	}
	return fs.Err()
}

// taxiiQuery reads the objects and manifest parameters.
func taxiiQuery(c echo.Context, allowed ...string) (taxii.Query, error) {
	if err := taxiiParams(c, allowed...); err != nil {
		return taxii.Query{}, err
	}
	qp := c.QueryParams()
	q := taxii.Query{Next: qp.Get("next"), IDs: taxii.SplitList(qp["match[id]"]), Types: taxii.SplitList(qp["match[type]"]),
		Versions: taxii.SplitList(qp["match[version]"]), SpecVersions: taxii.SplitList(qp["match[spec_version]"])}
	var fs apperr.Fields
	if v := qp.Get("added_after"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			fs.Add("added_after", "format", "added_after must be an RFC 3339 timestamp")
		}
		q.AddedAfter = t
	}
	if v := qp.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fs.Add("limit", "range", "limit must be a positive integer")
		}
		q.Limit = n
	}
	return q, fs.Err()
}

var pageParams = []string{"added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]"}

// envelope is a TAXII envelope.
type envelope struct {
	More    bool              `json:"more"`
	Next    string            `json:"next,omitempty"`
	Objects []json.RawMessage `json:"objects,omitempty"`
}

// dateHeaders sets X-TAXII-Date-Added-First and -Last from a page.
func dateHeaders(c echo.Context, objs []taxii.Object) {
	if len(objs) == 0 {
		return
	}
	first, last := objs[0].Added, objs[0].Added
	for _, o := range objs[1:] {
		if o.Added.Before(first) {
			first = o.Added
		}
		if o.Added.After(last) {
			last = o.Added
		}
	}
	c.Response().Header().Set("X-TAXII-Date-Added-First", taxii.Timestamp(first))
	c.Response().Header().Set("X-TAXII-Date-Added-Last", taxii.Timestamp(last))
}

func envelopeOf(pg *taxii.Page) envelope {
	env := envelope{More: pg.More, Next: pg.Next}
	for _, o := range pg.Objects {
		env.Objects = append(env.Objects, o.Raw)
	}
	return env
}

func (h *handlers) taxiiObjects(c echo.Context) error {
	q, err := taxiiQuery(c, pageParams...)
	if err != nil {
		return err
	}
	pg, err := h.o.TAXII.Objects(c.Request().Context(), principal(c), c.Param("collection"), q)
	if err != nil {
		return err
	}
	dateHeaders(c, pg.Objects)
	return taxiiJSON(c, http.StatusOK, envelopeOf(pg))
}

func (h *handlers) objectID(c echo.Context) string {
	id, err := url.PathUnescape(c.Param("object"))
	if err != nil {
		return c.Param("object")
	}
	return id
}

func (h *handlers) taxiiObject(c echo.Context) error {
	q, err := taxiiQuery(c, "added_after", "limit", "next", "match[version]", "match[spec_version]")
	if err != nil {
		return err
	}
	pg, err := h.o.TAXII.Object(c.Request().Context(), principal(c), c.Param("collection"), h.objectID(c), q)
	if err != nil {
		return err
	}
	dateHeaders(c, pg.Objects)
	return taxiiJSON(c, http.StatusOK, envelopeOf(pg))
}

func (h *handlers) taxiiVersions(c echo.Context) error {
	q, err := taxiiQuery(c, "added_after", "limit", "next", "match[spec_version]")
	if err != nil {
		return err
	}
	q.Versions = []string{"all"}
	pg, err := h.o.TAXII.Object(c.Request().Context(), principal(c), c.Param("collection"), h.objectID(c), q)
	if err != nil {
		return err
	}
	dateHeaders(c, pg.Objects)
	out := struct {
		More     bool     `json:"more"`
		Next     string   `json:"next,omitempty"`
		Versions []string `json:"versions,omitempty"`
	}{More: pg.More, Next: pg.Next}
	for _, o := range pg.Objects {
		if !slices.Contains(out.Versions, o.Version) {
			out.Versions = append(out.Versions, o.Version)
		}
	}
	return taxiiJSON(c, http.StatusOK, out)
}

// taxiiReadOnly answers a write to a collection: 404 for a collection the
// caller may not see (as for one that does not exist), else 403. The body
// is not read.
func (h *handlers) taxiiReadOnly(c echo.Context) error {
	if _, err := h.o.TAXII.Collection(c.Request().Context(), principal(c), c.Param("collection")); err != nil {
		return err
	}
	return apperr.New(apperr.Forbidden, "this collection is read-only (can_write is false)")
}

// manifestRecord is one entry of a TAXII manifest.
type manifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type"`
}

func (h *handlers) taxiiManifest(c echo.Context) error {
	q, err := taxiiQuery(c, pageParams...)
	if err != nil {
		return err
	}
	pg, err := h.o.TAXII.Objects(c.Request().Context(), principal(c), c.Param("collection"), q)
	if err != nil {
		return err
	}
	dateHeaders(c, pg.Objects)
	out := struct {
		More    bool             `json:"more"`
		Next    string           `json:"next,omitempty"`
		Objects []manifestRecord `json:"objects,omitempty"`
	}{More: pg.More, Next: pg.Next}
	for _, o := range pg.Objects {
		out.Objects = append(out.Objects, manifestRecord{ID: o.ID, DateAdded: taxii.Timestamp(o.Added), Version: o.Version, MediaType: stix.MediaType})
	}
	return taxiiJSON(c, http.StatusOK, out)
}
