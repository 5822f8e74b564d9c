package playbook

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses a positive duration: Go's syntax (90s, 30m, 2h30m)
// plus whole days (3d, 1d12h). Playbook durations are strings in this form.
func ParseDuration(s string) (time.Duration, error) {
	if strings.ContainsAny(s, "-+") {
		return 0, fmt.Errorf("invalid duration %q: must be positive", s)
	}
	var d time.Duration
	rest := s
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n > 3650 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d = time.Duration(n) * 24 * time.Hour
		rest = s[i+1:]
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d += r
	}
	if d <= 0 {
		return 0, fmt.Errorf("invalid duration %q: must be positive", s)
	}
	return d, nil
}
