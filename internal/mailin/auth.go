package mailin

import (
	"regexp"
	"strings"
)

// Auth is what a relay's Authentication-Results header (RFC 8601) says
// of a message: its DKIM, SPF and DMARC results.
type Auth struct {
	// Header is the header read, as it was ("" when none).
	Header     string
	AuthservID string
	// DKIM, SPF and DMARC are the results ("pass", "fail", "none", …; ""
	// when the header has none). DKIM is "pass" when any signature passed.
	DKIM, SPF, DMARC string
	// DKIMDomains are the signing domains (header.d) of the signatures
	// that passed; SPFFrom is the smtp.mailfrom SPF checked.
	DKIMDomains []string
	SPFFrom     string
}

var comments = regexp.MustCompile(`\([^()]*\)`)

// parseAuth reads one Authentication-Results header.
func parseAuth(h string) Auth {
	a := Auth{Header: strings.Join(strings.Fields(h), " ")}
	parts := strings.Split(comments.ReplaceAllString(h, " "), ";")
	if f := strings.Fields(parts[0]); len(f) > 0 {
		a.AuthservID = strings.ToLower(f[0])
	}
	for _, p := range parts[1:] {
		f := strings.Fields(p)
		if len(f) == 0 {
			continue
		}
		method, result, ok := strings.Cut(strings.ToLower(f[0]), "=")
		if !ok {
			continue
		}
		props := map[string]string{}
		for _, kv := range f[1:] {
			if k, v, ok := strings.Cut(kv, "="); ok {
				props[strings.ToLower(k)] = strings.ToLower(strings.Trim(v, `"`))
			}
		}
		switch method {
		case "dkim":
			if a.DKIM != "pass" {
				a.DKIM = result
			}
			if result == "pass" && props["header.d"] != "" {
				a.DKIMDomains = append(a.DKIMDomains, props["header.d"])
			}
		case "spf":
			if a.SPF == "" {
				a.SPF, a.SPFFrom = result, props["smtp.mailfrom"]
			}
		case "dmarc":
			if a.DMARC == "" {
				a.DMARC = result
			}
		}
	}
	return a
}

// pickAuth returns the header certdesk reads: with authservID, the
// topmost header of that relay (ok=false when there is none); without,
// the topmost header, if any.
func pickAuth(headers []string, authservID string) (Auth, bool) {
	for _, h := range headers {
		a := parseAuth(h)
		if authservID == "" || strings.EqualFold(a.AuthservID, authservID) {
			return a, true
		}
	}
	return Auth{}, authservID == ""
}

// Authenticates reports whether the results authenticate sender: DMARC
// passed, or a DKIM signature of the sender's domain (or a parent
// domain of it) passed, or SPF passed for the sender's address or domain.
func (a Auth) Authenticates(sender string) bool {
	_, domain, _ := strings.Cut(strings.ToLower(sender), "@")
	if domain == "" {
		return false
	}
	if a.DMARC == "pass" {
		return true
	}
	for _, d := range a.DKIMDomains {
		if d == domain || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	if a.SPF == "pass" {
		from := a.SPFFrom
		if _, d, ok := strings.Cut(from, "@"); ok {
			from = d
		}
		return from == domain
	}
	return false
}
