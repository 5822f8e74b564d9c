package incident

import (
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
)

// EventSummaryChanged records a change of the executive summary: data
// holds the parts that changed, each with its old and new text.
const EventSummaryChanged EventKind = "summary_changed"

// Summary is an incident's executive summary for leadership: where it
// stands, what it affects, and what happens next. The coordinator keeps it
// current; the executive timeline and the incident report show it.
type Summary struct {
	Status    string
	Impact    string
	NextSteps string
	UpdatedAt *time.Time // when a part last changed; nil: never written
	UpdatedBy string     // who changed it last (an e-mail, or certdesk)
}

// Empty reports whether no part of the summary has been written.
func (s Summary) Empty() bool { return s.Status == "" && s.Impact == "" && s.NextSteps == "" }

// SummaryPatch changes parts of the executive summary; nil parts stay.
type SummaryPatch struct {
	Status    *string
	Impact    *string
	NextSteps *string
}

// MaxSummaryPart bounds each part of the executive summary: it is read in
// two minutes.
const MaxSummaryPart = 2000

// MaxAffectedPeople bounds affected_people (more than everyone alive is a
// typing error).
const MaxAffectedPeople = 10_000_000_000

// checkAffectedPeople validates a number of people affected.
func checkAffectedPeople(n *int64, fs *apperr.Fields) {
	if n != nil && (*n < 0 || *n > MaxAffectedPeople) {
		fs.Add("affected_people", "range", "affected_people must be between 0 and %d", int64(MaxAffectedPeople))
	}
}

// applySummary applies a summary patch to inc and returns the timeline
// event of the change, or nil when nothing changed.
func applySummary(inc *Incident, sp *SummaryPatch, actor string, now time.Time, fs *apperr.Fields) *Event {
	if sp == nil {
		return nil
	}
	changed := map[string]any{}
	part := func(name string, dst *string, v *string) {
		if v == nil {
			return
		}
		s := strings.TrimSpace(*v)
		if !fs.Text("executive_summary."+name, s, MaxSummaryPart) {
			return
		}
		if s != *dst {
			changed[name] = map[string]any{"old": *dst, "new": s}
			*dst = s
		}
	}
	part("status", &inc.Summary.Status, sp.Status)
	part("impact", &inc.Summary.Impact, sp.Impact)
	part("next_steps", &inc.Summary.NextSteps, sp.NextSteps)
	if len(changed) == 0 {
		return nil
	}
	inc.Summary.UpdatedAt, inc.Summary.UpdatedBy = &now, actor
	return &Event{Kind: EventSummaryChanged, Data: mustJSON(changed)}
}
