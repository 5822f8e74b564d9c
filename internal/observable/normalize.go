package observable

import (
	"fmt"
	"net/mail"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Type is the kind of an observable. The type decides how a value is
// validated and normalised.
type Type string

// The observable types.
const (
	IPv4     Type = "ipv4"
	IPv6     Type = "ipv6"
	Domain   Type = "domain"
	URL      Type = "url"
	Email    Type = "email"
	MD5      Type = "md5"
	SHA1     Type = "sha1"
	SHA256   Type = "sha256"
	Filename Type = "filename"
	CVE      Type = "cve"
	ASN      Type = "asn"
)

// Types lists every type, in the order the API documents them.
var Types = []Type{IPv4, IPv6, Domain, URL, Email, MD5, SHA1, SHA256, Filename, CVE, ASN}

// Valid reports whether t is a known type.
func (t Type) Valid() bool {
	for _, x := range Types {
		if t == x {
			return true
		}
	}
	return false
}

// Limits on values.
const (
	MaxDomain   = 253  // RFC 1035, without the trailing dot
	MaxLabel    = 63   // one DNS label
	MaxURL      = 2048 // as browsers and proxies commonly allow; keeps the value indexable
	MaxEmail    = 254  // RFC 5321 path limit
	MaxFilename = 255  // bytes, as most file systems count
	MaxInput    = 8192 // anything longer is refused before parsing
	maxShort    = 1024 // addresses and names, before refanging
)

// ValueError says which rule a value broke. Rule is a short machine-readable
// name ("format", "max_length", ...); Message is a sentence for people.
type ValueError struct {
	Type    Type
	Rule    string
	Message string
}

func (e *ValueError) Error() string { return fmt.Sprintf("%s: %s", e.Type, e.Message) }

func bad(t Type, rule, format string, args ...any) *ValueError {
	return &ValueError{Type: t, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Normalize validates raw as a value of type t and returns its canonical
// form, so that the same indicator written two ways is stored, deduplicated
// and correlated as one. Surrounding white space is removed and common
// defanging ("[.]", "hxxp://") is undone where the type can carry it. A
// normalised value normalises to itself. The error is a *ValueError that
// names the rule the value broke.
//
// The canonical forms:
//   - ipv4: dotted decimal without leading zeros (1.2.3.4).
//   - ipv6: RFC 5952 (lower case, longest zero run compressed); an
//     IPv4-mapped address (::ffff:1.2.3.4) is refused: it is an ipv4
//     observable. Zones are refused.
//   - domain: lower case, no trailing dot, internationalised labels in
//     punycode (xn--...); at least two labels, labels of at most 63 and
//     names of at most 253 characters, letters, digits, '-' and '_' only,
//     and a top-level label that is not all digits.
//   - url: an absolute http, https or ftp URL; the scheme is lower-cased and
//     the host normalised as a domain or an IP address, an empty path
//     becomes "/"; the path, query and fragment are kept as given.
//   - email: a plain address (no display name); the domain normalised as a
//     domain, the local part kept as given.
//   - md5, sha1, sha256: lower-case hexadecimal of exactly 32, 40, 64 digits.
//   - filename: a base name (no '/' or '\'), at most 255 bytes, no control
//     characters.
//   - cve: CVE-YYYY-NNNN with at least four digits, upper case.
//   - asn: "AS" and the number in decimal (AS64500); "64500", "as64500",
//     "ASN64500" and the asdot form "AS1.10" are accepted.
func Normalize(t Type, raw string) (string, error) {
	if !t.Valid() {
		return "", bad(t, "enum", "unknown observable type %q", string(t))
	}
	if len(raw) > MaxInput {
		return "", bad(t, "max_length", "a value is at most %d bytes", MaxInput)
	}
	if !utf8.ValidString(raw) {
		return "", bad(t, "utf8", "the value must be valid UTF-8")
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", bad(t, "required", "the value is empty")
	}
	if len(s) > maxShort && (t == IPv4 || t == IPv6 || t == Domain || t == Email) {
		return "", bad(t, "max_length", "a value of type %s is at most %d bytes, even defanged", t, maxShort)
	}
	var v string
	var err *ValueError
	switch t {
	case IPv4:
		v, err = normIPv4(refang(s))
	case IPv6:
		v, err = normIPv6(refang(s))
	case Domain:
		v, err = normDomain(Domain, refang(s))
	case URL:
		v, err = normURL(s)
	case Email:
		v, err = normEmail(refang(s))
	case MD5:
		v, err = normHash(MD5, s, 32)
	case SHA1:
		v, err = normHash(SHA1, s, 40)
	case SHA256:
		v, err = normHash(SHA256, s, 64)
	case Filename:
		v, err = normFilename(s)
	case CVE:
		v, err = normCVE(s)
	case ASN:
		v, err = normASN(s)
	}
	if err != nil {
		return "", err
	}
	return v, nil
}

// Candidate is one reading of a value as a type.
type Candidate struct {
	Type  Type
	Value string
}

// Candidates returns every type that accepts raw, with its normalised
// value, in the order of Types. A search without a type looks for all of
// them: "evil.example" is a domain and also a possible file name.
func Candidates(raw string) []Candidate {
	var out []Candidate
	for _, t := range Types {
		if v, err := Normalize(t, raw); err == nil {
			out = append(out, Candidate{Type: t, Value: v})
		}
	}
	return out
}

// refang undoes the usual defanging of addresses and names in reports:
// "[.]", "(.)", "{.}" and "[dot]" for dots, "[@]" and "[at]" for '@', "[:]"
// for ':'. None of these can occur in a valid value of the types it is
// applied to.
var refanger = strings.NewReplacer("[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "[DOT]", ".",
	"[@]", "@", "[at]", "@", "[AT]", "@", "[:]", ":")

// refang replaces until nothing changes, so that "[[.]]" cannot become a
// new "[.]" that a second normalisation would replace again.
func refang(s string) string {
	for {
		r := refanger.Replace(s)
		if r == s {
			return r
		}
		s = r
	}
}

func hasSpaceOrControl(s string) bool {
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return true
		}
	}
	return false
}

func normIPv4(s string) (string, *ValueError) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return "", bad(IPv4, "format", "not an IPv4 address in dotted decimal (e.g. 192.0.2.1, no leading zeros)")
	}
	return a.String(), nil
}

func normIPv6(s string) (string, *ValueError) {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil || !a.Is6():
		return "", bad(IPv6, "format", "not an IPv6 address (e.g. 2001:db8::1)")
	case a.Zone() != "":
		return "", bad(IPv6, "zone", "an IPv6 address with a zone (%%...) is local to one host; leave the zone out")
	case a.Is4In6():
		return "", bad(IPv6, "ipv4_mapped", "an IPv4-mapped address is an ipv4 observable: use type ipv4 with %s", a.Unmap().String())
	}
	return a.String(), nil
}

// idnaProfile maps a domain name for lookup (UTS #46, non-transitional,
// with the Bidi rule) but leaves the ASCII character rules and label
// lengths to normDomain, which names the rule a value breaks. Hyphens in
// the third and fourth position are allowed: names such as
// "r3---sn-abc.example" are common.
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false),
	idna.StrictDomainName(false), idna.CheckHyphens(false))

// normDomain normalises a domain name; t is the type reported in errors
// (a URL's or e-mail address's host is checked with the same rules).
func normDomain(t Type, s string) (string, *ValueError) {
	if hasSpaceOrControl(s) {
		return "", bad(t, "format", "a domain name has no spaces or control characters")
	}
	s = strings.TrimSuffix(s, ".")
	if s == "" || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return "", bad(t, "format", "a domain name has no empty labels")
	}
	a, err := idnaProfile.ToASCII(s)
	if err != nil {
		return "", bad(t, "idna", "not a valid internationalised domain name")
	}
	a = strings.ToLower(a)
	if len(a) > MaxDomain {
		return "", bad(t, "max_length", "a domain name is at most %d characters (in punycode)", MaxDomain)
	}
	labels := strings.Split(a, ".")
	if len(labels) < 2 {
		return "", bad(t, "fqdn", "a domain name has at least two labels (example.org)")
	}
	for _, l := range labels {
		switch {
		case l == "":
			return "", bad(t, "format", "a domain name has no empty labels")
		case len(l) > MaxLabel:
			return "", bad(t, "label_length", "a label is at most %d characters", MaxLabel)
		case l[0] == '-' || l[len(l)-1] == '-':
			return "", bad(t, "hyphen", "a label neither starts nor ends with '-'")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", bad(t, "characters", "a label holds letters, digits, '-' and '_' only")
			}
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return "", bad(t, "numeric_tld", "the top-level label is not all digits (an IP address is not a domain name)")
	}
	return a, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// urlRefanger undoes defanging in URLs, where only "[.]" and "[:]" cannot
// be part of a valid value (brackets are not allowed in a path or query).
var urlRefanger = strings.NewReplacer("[.]", ".", "[:]", ":")

var urlSchemes = map[string]string{"http": "http", "https": "https", "ftp": "ftp",
	"hxxp": "http", "hxxps": "https", "fxp": "ftp"}

func normURL(s string) (string, *ValueError) {
	if len(s) > MaxURL {
		return "", bad(URL, "max_length", "a URL is at most %d characters", MaxURL)
	}
	for {
		r := urlRefanger.Replace(s)
		if r == s {
			break
		}
		s = r
	}
	i := strings.Index(s, "://")
	if i <= 0 {
		return "", bad(URL, "absolute", "an absolute URL with a scheme and a host (https://example.org/path)")
	}
	scheme, ok := urlSchemes[strings.ToLower(s[:i])]
	if !ok {
		return "", bad(URL, "scheme", "the scheme is http, https or ftp")
	}
	rest := s[i+3:]
	authority, tail := rest, ""
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		authority, tail = rest[:j], rest[j:]
	}
	if hasSpaceOrControl(tail) {
		return "", bad(URL, "characters", "a URL has no spaces or control characters (encode them as %%20)")
	}
	userinfo := ""
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, authority = authority[:at+1], authority[at+1:]
		if hasSpaceOrControl(userinfo) {
			return "", bad(URL, "characters", "a URL has no spaces or control characters (encode them as %%20)")
		}
	}
	host, port := authority, ""
	if strings.HasPrefix(authority, "[") {
		end := strings.Index(authority, "]")
		if end < 0 {
			return "", bad(URL, "host", "an IPv6 host is written in brackets: http://[2001:db8::1]/")
		}
		host, port = authority[:end+1], authority[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return "", bad(URL, "host", "nothing but a port may follow an IPv6 host")
		}
		port = strings.TrimPrefix(port, ":")
	} else if c := strings.LastIndex(authority, ":"); c >= 0 {
		host, port = authority[:c], authority[c+1:]
	}
	if host == "" {
		return "", bad(URL, "host", "the URL has no host")
	}
	var h string
	switch {
	case strings.HasPrefix(host, "["):
		v6, err := normIPv6(host)
		if err != nil {
			return "", bad(URL, "host", "the host is not a valid IPv6 address: %s", err.Message)
		}
		h = "[" + v6 + "]"
	default:
		if v4, err := normIPv4(host); err == nil {
			h = v4
		} else {
			d, derr := normDomain(URL, host)
			if derr != nil {
				return "", bad(URL, "host", "the host is neither an IPv4 address nor a valid domain name: %s", derr.Message)
			}
			h = d
		}
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 || !allDigits(port) {
			return "", bad(URL, "port", "the port is a number from 1 to 65535")
		}
		h += ":" + strconv.FormatUint(n, 10)
	}
	if tail == "" || tail[0] != '/' {
		tail = "/" + tail
	}
	out := scheme + "://" + userinfo + h + tail
	if len(out) > MaxURL {
		return "", bad(URL, "max_length", "a URL is at most %d characters", MaxURL)
	}
	return out, nil
}

func normEmail(s string) (string, *ValueError) {
	if len(s) > MaxEmail {
		return "", bad(Email, "max_length", "an e-mail address is at most %d characters", MaxEmail)
	}
	if strings.ContainsAny(s, "<>,") || hasSpaceOrControl(s) {
		return "", bad(Email, "format", "a plain e-mail address (name@example.org), without a display name")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" {
		return "", bad(Email, "format", "a plain e-mail address (name@example.org), without a display name")
	}
	at := strings.LastIndex(a.Address, "@")
	if at <= 0 {
		return "", bad(Email, "format", "a plain e-mail address (name@example.org), without a display name")
	}
	local, domain := a.Address[:at], a.Address[at+1:]
	if hasSpaceOrControl(local) {
		return "", bad(Email, "format", "a plain e-mail address (name@example.org), without a display name")
	}
	d, derr := normDomain(Email, domain)
	if derr != nil {
		return "", bad(Email, "domain", "the domain part is not a valid domain name: %s", derr.Message)
	}
	out := local + "@" + d
	if len(out) > MaxEmail {
		return "", bad(Email, "max_length", "an e-mail address is at most %d characters", MaxEmail)
	}
	// The result must read back as itself: a local part that mail quotes
	// differently on the second pass is refused rather than stored twice.
	if b, err := mail.ParseAddress(out); err != nil || b.Address != out {
		return "", bad(Email, "format", "a plain e-mail address (name@example.org), without a display name")
	}
	return out, nil
}

func normHash(t Type, s string, digits int) (string, *ValueError) {
	if !isASCII(s) {
		return "", bad(t, "hex", "a %s hash holds only the hexadecimal digits 0-9 and a-f", t)
	}
	s = strings.ToLower(s)
	if len(s) != digits {
		return "", bad(t, "length", "a %s hash is exactly %d hexadecimal digits", t, digits)
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return "", bad(t, "hex", "a %s hash holds only the hexadecimal digits 0-9 and a-f", t)
		}
	}
	return s, nil
}

func normFilename(s string) (string, *ValueError) {
	if len(s) > MaxFilename {
		return "", bad(Filename, "max_length", "a file name is at most %d bytes", MaxFilename)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", bad(Filename, "control_chars", "a file name has no control characters")
		}
	}
	if strings.ContainsAny(s, `/\`) {
		return "", bad(Filename, "path_separator", `a file name has no '/' or '\': give the base name only`)
	}
	if s == "." || s == ".." {
		return "", bad(Filename, "format", "'.' and '..' are not file names")
	}
	return s, nil
}

var cvePattern = regexp.MustCompile(`^CVE-([0-9]{4})-([0-9]{4,19})$`)

func normCVE(s string) (string, *ValueError) {
	if !isASCII(s) {
		return "", bad(CVE, "format", "a CVE ID is CVE-YYYY-NNNN with at least four digits (CVE-2024-3094)")
	}
	s = strings.ToUpper(s)
	m := cvePattern.FindStringSubmatch(s)
	if m == nil {
		return "", bad(CVE, "format", "a CVE ID is CVE-YYYY-NNNN with at least four digits (CVE-2024-3094)")
	}
	if y, _ := strconv.Atoi(m[1]); y < 1999 {
		return "", bad(CVE, "year", "CVE IDs start in 1999")
	}
	if len(m[2]) > 4 && m[2][0] == '0' {
		return "", bad(CVE, "format", "a CVE sequence number of more than four digits has no leading zero")
	}
	return s, nil
}

func normASN(s string) (string, *ValueError) {
	if !isASCII(s) {
		return "", bad(ASN, "format", "an AS number is AS followed by digits (AS64500), or asdot (AS1.10)")
	}
	u := strings.ToUpper(s)
	switch {
	case strings.HasPrefix(u, "ASN"):
		u = u[3:]
	case strings.HasPrefix(u, "AS"):
		u = u[2:]
	}
	u = strings.TrimSpace(u)
	var n uint64
	if hi, lo, dot := strings.Cut(u, "."); dot {
		// asdot (RFC 5396): high.low, each 0..65535.
		h, err1 := strconv.ParseUint(hi, 10, 16)
		l, err2 := strconv.ParseUint(lo, 10, 16)
		if err1 != nil || err2 != nil || !allDigits(hi) || !allDigits(lo) {
			return "", bad(ASN, "format", "an AS number is AS followed by digits (AS64500), or asdot (AS1.10)")
		}
		n = h<<16 | l
	} else {
		if !allDigits(u) {
			return "", bad(ASN, "format", "an AS number is AS followed by digits (AS64500), or asdot (AS1.10)")
		}
		var err error
		if n, err = strconv.ParseUint(u, 10, 32); err != nil {
			return "", bad(ASN, "range", "an AS number is at most 4294967295")
		}
	}
	if n == 0 {
		return "", bad(ASN, "range", "AS0 is reserved and never an origin (RFC 7607)")
	}
	return "AS" + strconv.FormatUint(n, 10), nil
}

// ASNumber returns the number of a normalised asn value ("AS64500" → 64500).
func ASNumber(v string) (uint32, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(v, "AS"), 10, 32)
	return uint32(n), err == nil && strings.HasPrefix(v, "AS")
}
