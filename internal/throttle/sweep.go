package throttle

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/audit"
)

// Summary says that the windows of a rule are summarised in the audit
// log: once a window has ended, its failures become one entry, so that a
// flood of failures from one key costs one audit row per window, not one
// per failure.
type Summary struct {
	// Rule is the rule whose windows are summarised (its scope and window).
	Rule Rule
	// Action is the audit entry's action (audit.AuthFailed).
	Action audit.Action
	// Target is what the rule's keys are, the audit entry's target type:
	// "" for client addresses ("address", also recorded as the entry's
	// client address), else e.g. "account" for e-mail addresses typed at
	// sign-in.
	Target string
}

// Window is one counting window of a key.
type Window struct {
	Scope    string
	Key      string
	Start    time.Time
	Failures int
	// Reasons counts the failures per reason (FailFor).
	Reasons map[string]int
}

// SweepTx is what a sweep does inside one transaction.
type SweepTx interface {
	// EndedWindows locks and returns at most limit windows of scope that
	// started before before and are not summarised yet, oldest first.
	// Windows another sweep has locked are skipped.
	EndedWindows(ctx context.Context, scope string, before time.Time, limit int) ([]Window, error)
	// MarkAudited records that the windows were summarised at at.
	MarkAudited(ctx context.Context, ws []Window, at time.Time) error
	// Audit appends an entry to the audit log.
	Audit(ctx context.Context, e audit.Entry) error
}

// SweepStore is the persistence of a Sweeper.
type SweepStore interface {
	InThrottleTx(ctx context.Context, fn func(ctx context.Context, tx SweepTx) error) error
	// ThrottlePurge removes the windows that started before before, except
	// those of the scopes in keep that are not summarised yet, and returns
	// how many it removed.
	ThrottlePurge(ctx context.Context, before time.Time, keep []string) (int, error)
}

// sweepBatch is how many windows one transaction summarises.
const sweepBatch = 500

// Sweeper summarises ended windows into the audit log and removes old
// windows, so that neither the audit log nor auth_throttle grows with the
// number of failures. Run it periodically (SweepJob, every SweepInterval);
// sweeps running at once on several processes summarise each window once.
type Sweeper struct {
	store     SweepStore
	summaries []Summary
	now       func() time.Time
}

// NewSweeper returns a Sweeper of the given summaries; now nil means
// time.Now. A summary whose rule cannot count is an error.
func NewSweeper(store SweepStore, summaries []Summary, now func() time.Time) (*Sweeper, error) {
	if now == nil {
		now = time.Now
	}
	seen := map[string]bool{}
	for _, s := range summaries {
		if err := s.Rule.check(); err != nil {
			return nil, err
		}
		if s.Action == "" || seen[s.Rule.Scope] {
			return nil, fmt.Errorf("throttle: the summary of %q needs an action, and one summary per scope", s.Rule.Scope)
		}
		seen[s.Rule.Scope] = true
	}
	return &Sweeper{store: store, summaries: summaries, now: now}, nil
}

// SweepResult says what a sweep did.
type SweepResult struct {
	Audited int // windows summarised into audit entries
	Removed int // windows removed
}

// Sweep summarises every ended window of the summarised scopes (one audit
// entry each, in the transaction that marks the window summarised), then
// removes the windows that started more than MaxWindow ago.
func (s *Sweeper) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	now := s.now().UTC()
	keep := make([]string, 0, len(s.summaries))
	for _, sum := range s.summaries {
		keep = append(keep, sum.Rule.Scope)
		for {
			n, err := s.summarise(ctx, sum, now)
			if err != nil {
				return res, err
			}
			res.Audited += n
			if n < sweepBatch {
				break
			}
		}
	}
	removed, err := s.store.ThrottlePurge(ctx, now.Add(-MaxWindow), keep)
	if err != nil {
		return res, fmt.Errorf("remove old throttle windows: %w", err)
	}
	res.Removed = removed
	return res, nil
}

// summarise writes the audit entries of one batch of ended windows.
func (s *Sweeper) summarise(ctx context.Context, sum Summary, now time.Time) (int, error) {
	var n int
	err := s.store.InThrottleTx(ctx, func(ctx context.Context, tx SweepTx) error {
		// A window that starts at start ends at start+Window.
		ws, err := tx.EndedWindows(ctx, sum.Rule.Scope, now.Add(-sum.Rule.Window), sweepBatch)
		if err != nil || len(ws) == 0 {
			return err
		}
		for _, w := range ws {
			if err := tx.Audit(ctx, sum.entry(w)); err != nil {
				return err
			}
		}
		n = len(ws)
		return tx.MarkAudited(ctx, ws, now)
	})
	if err != nil {
		return 0, fmt.Errorf("summarise throttle windows of %s: %w", sum.Rule.Scope, err)
	}
	return n, nil
}

// entry is the audit entry of one window: the key (a client address) as
// the remote address, the count, the part of it that was refused, and
// the reasons.
func (sum Summary) entry(w Window) audit.Entry {
	reasons := w.Reasons
	if reasons == nil {
		reasons = map[string]int{}
	}
	data, err := json.Marshal(map[string]any{
		"failures": w.Failures, "refused": max(0, w.Failures-sum.Rule.Limit), "limit": sum.Rule.Limit,
		"window_start": w.Start.UTC(), "window_end": w.Start.Add(sum.Rule.Window).UTC(),
		"scope": w.Scope, "reasons": reasons,
	})
	if err != nil { // a map of strings, ints and times always marshals
		data = []byte("{}")
	}
	if sum.Target != "" {
		return audit.Entry{Actor: "anonymous", Action: sum.Action, TargetType: sum.Target, TargetID: w.Key, Data: data}
	}
	return audit.Entry{Actor: "anonymous", Action: sum.Action, TargetType: "address", TargetID: w.Key,
		RemoteAddr: w.Key, Data: data}
}

// SweepInterval is how often the sweep runs (SweepJob).
const SweepInterval = time.Minute

// SweepJob runs Sweeper.Sweep; River's periodic scheduler inserts one
// every SweepInterval on the leading worker process.
type SweepJob struct{}

// Kind identifies the job.
func (SweepJob) Kind() string { return "throttle.sweep" }
