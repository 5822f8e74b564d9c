package incident

import (
	"fmt"
	"slices"
	"strings"
)

// Stage is where an incident stands in its lifecycle.
type Stage string

// The stages, in lifecycle order.
const (
	Prevention  Stage = "prevention"
	Preparation Stage = "preparation"
	Response    Stage = "response"
	Recovery    Stage = "recovery"
)

// Stages lists the stages in order.
var Stages = []Stage{Prevention, Preparation, Response, Recovery}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool { return slices.Contains(Stages, s) }

// Status is open or closed; closing is not a stage.
type Status string

// The statuses.
const (
	Open   Status = "open"
	Closed Status = "closed"
)

// Severity grades an incident's impact. Severities are ordered.
type Severity string

// The severities, lowest first.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Severities lists the severities, lowest first.
var Severities = []Severity{Low, Medium, High, Critical}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return slices.Contains(Severities, s) }

// Rank orders severities: low is 0, critical is 3, unknown is -1.
func (s Severity) Rank() int { return slices.Index(Severities, s) }

// TLP is a Traffic Light Protocol 2.0 label.
type TLP string

// The TLP 2.0 labels, most restrictive first.
const (
	TLPRed         TLP = "TLP:RED"
	TLPAmberStrict TLP = "TLP:AMBER+STRICT"
	TLPAmber       TLP = "TLP:AMBER"
	TLPGreen       TLP = "TLP:GREEN"
	TLPClear       TLP = "TLP:CLEAR"
)

// TLPs lists the labels, most restrictive first.
var TLPs = []TLP{TLPRed, TLPAmberStrict, TLPAmber, TLPGreen, TLPClear}

// ParseTLP accepts a label with or without the "TLP:" prefix, in any case,
// and TLP 1.0's WHITE as CLEAR.
func ParseTLP(s string) (TLP, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(u, "TLP:") {
		u = "TLP:" + u
	}
	if u == "TLP:WHITE" {
		u = string(TLPClear)
	}
	t := TLP(u)
	return t, slices.Contains(TLPs, t)
}

// Valid reports whether t is a known label in canonical form.
func (t TLP) Valid() bool { return slices.Contains(TLPs, t) }

// LooserThan reports whether t lets information go further than u
// (TLP:CLEAR is looser than TLP:GREEN, and so on). An unknown label is
// never looser than anything.
func (t TLP) LooserThan(u TLP) bool { return slices.Index(TLPs, t) > slices.Index(TLPs, u) }

// StricterTLP returns the more restrictive of two labels; an unknown label
// counts as the most restrictive of all.
func StricterTLP(a, b TLP) TLP {
	if slices.Index(TLPs, a) <= slices.Index(TLPs, b) {
		return a
	}
	return b
}

func list[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// Reference formats an incident reference: INC-2026-000042.
func Reference(year int, number int64) string {
	return fmt.Sprintf("INC-%04d-%06d", year, number)
}

// IsReference reports whether s looks like an incident reference.
func IsReference(s string) bool {
	var y int
	var n int64
	var rest string
	c, _ := fmt.Sscanf(s, "INC-%4d-%d%s", &y, &n, &rest)
	return c == 2 && len(s) >= len("INC-2026-000001") && strings.HasPrefix(s, "INC-")
}
