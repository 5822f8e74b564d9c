package observable

import (
	"regexp"
	"strings"
)

// MaxPasted bounds the indicators read from one pasted text.
const MaxPasted = 200

// pasteSplit separates the tokens of a pasted list: line breaks, spaces,
// commas and semicolons.
var pasteSplit = regexp.MustCompile(`[\s,;]+`)

// fileExt recognises a token as a file name only by an extension that
// malware and lures use: anything else with a dot is more likely a domain,
// and a word without one is not an indicator at all.
var fileExt = regexp.MustCompile(`(?i)^[^/\\:@]+\.(exe|dll|scr|com|bat|cmd|ps1|vbs|vbe|js|jse|wsf|hta|lnk|msi|iso|img|jar|zip|rar|7z|gz|tar|doc|docm|docx|xls|xlsm|xlsx|ppt|pptm|pdf|one|html?|sh|elf|bin|apk|txt)$`)

// pasteOrder is the order in which a pasted token's readings are tried:
// the most specific first, so that a URL is not read as a domain and a
// SHA-256 not as something shorter.
var pasteOrder = []Type{URL, Email, IPv4, IPv6, CVE, ASN, SHA256, SHA1, MD5}

// ParsePasted reads a pasted list of indicators (one per line, or
// separated by spaces, commas or semicolons; defanged or not) and returns
// each recognised one once, normalised, in the order pasted, and the
// tokens it did not recognise. Tokens lose surrounding quotes and angle
// brackets. A file name counts only with an extension malware uses
// (fileExt). More than MaxPasted indicators are cut, the rest reported
// as not recognised.
func ParsePasted(text string) (found []Candidate, unknown []string) {
	seen := map[Candidate]bool{}
	for _, tok := range pasteSplit.Split(text, -1) {
		tok = strings.Trim(tok, "\"'<>`")
		tok = strings.TrimRight(tok, ".")
		if tok == "" {
			continue
		}
		c, ok := readPasted(tok)
		if !ok || len(found) >= MaxPasted {
			unknown = append(unknown, tok)
			continue
		}
		if !seen[c] {
			seen[c] = true
			found = append(found, c)
		}
	}
	return found, unknown
}

func readPasted(tok string) (Candidate, bool) {
	for _, t := range pasteOrder {
		if v, err := Normalize(t, tok); err == nil {
			return Candidate{Type: t, Value: v}, true
		}
	}
	if fileExt.MatchString(tok) {
		if v, err := Normalize(Filename, tok); err == nil {
			return Candidate{Type: Filename, Value: v}, true
		}
	}
	if strings.Contains(refang(tok), ".") {
		if v, err := Normalize(Domain, tok); err == nil {
			return Candidate{Type: Domain, Value: v}, true
		}
	}
	return Candidate{}, false
}

// Defang writes a normalised value so that it cannot be followed or
// resolved by accident when people read, copy or click it: dots of
// addresses and names as "[.]", "@" as "[@]", and a URL's scheme as
// "hxxp"/"hxxps" (with the dots of its host bracketed). Hashes, CVEs, ASNs and file names are
// returned as they are. It is for display only; ParsePasted and
// Normalize read the defanged form back.
func Defang(t Type, v string) string {
	switch t {
	case IPv4, Domain:
		return strings.ReplaceAll(v, ".", "[.]")
	case IPv6:
		return strings.ReplaceAll(v, ":", "[:]")
	case Email:
		return strings.ReplaceAll(strings.ReplaceAll(v, ".", "[.]"), "@", "[@]")
	case URL:
		scheme, rest, ok := strings.Cut(v, "://")
		if !ok {
			return strings.ReplaceAll(v, ".", "[.]")
		}
		host, path, _ := strings.Cut(rest, "/")
		scheme = strings.Replace(strings.Replace(scheme, "https", "hxxps", 1), "http", "hxxp", 1)
		out := scheme + "://" + strings.ReplaceAll(host, ".", "[.]")
		if path != "" || strings.Contains(rest, "/") {
			out += "/" + path
		}
		return out
	}
	return v
}
