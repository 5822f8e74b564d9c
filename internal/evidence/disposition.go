package evidence

import (
	"fmt"
	"strings"
)

// ContentDisposition is the Content-Disposition header that offers an
// attachment named name as a download (the API and the web UI send the
// same): an ASCII fallback for old clients in filename and the exact UTF-8
// name in filename* (RFC 6266, RFC 8187). name is a display name (no control characters); anything that
// could break the header is replaced or percent-encoded.
func ContentDisposition(name string) string {
	var fallback, ext strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' {
			fallback.WriteByte('_')
		} else {
			fallback.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			ext.WriteByte(b)
		} else {
			fmt.Fprintf(&ext, "%%%02X", b)
		}
	}
	return `attachment; filename="` + fallback.String() + `"; filename*=UTF-8''` + ext.String()
}

// isAttrChar reports whether b may appear unencoded in an RFC 8187 value.
func isAttrChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}
