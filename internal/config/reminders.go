package config

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseReminders reads reminder points such as "50%,90%": whole
// percentages from 1 to 99, ascending, at most 10; "off" means none.
func ParseReminders(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") || strings.EqualFold(s, "none") {
		return []int{}, nil
	}
	if s == "" {
		return nil, fmt.Errorf("no reminder points: give percentages such as 50%%,90%%, or off")
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		num, ok := strings.CutSuffix(part, "%")
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if !ok || err != nil || n < 1 || n > 99 {
			return nil, fmt.Errorf("%q is not a percentage from 1%% to 99%%", part)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("points must be ascending without repeats (%d%% after %d%%)", n, out[len(out)-1])
		}
		out = append(out, n)
	}
	if len(out) > 10 {
		return nil, fmt.Errorf("at most 10 points")
	}
	return out, nil
}
