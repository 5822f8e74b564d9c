package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Alert is the alert of one broken chain.
type Alert struct {
	ID       int64
	Fault    string // Fault.Key
	Detail   string
	RaisedAt time.Time
	SentAt   *time.Time
}

// WatchStore is the persistence of a Watcher.
type WatchStore interface {
	ChainReader
	// OpenChainAlert returns the open alert of the fault key, raising it
	// (detail, at) when there is none, and resolves the open alerts of
	// other keys (the chain's first fault moved) at at.
	OpenChainAlert(ctx context.Context, key, detail string, at time.Time) (Alert, error)
	// ResolveChainAlerts resolves every open alert at at: the chain
	// verified.
	ResolveChainAlerts(ctx context.Context, at time.Time) error
	// ChainAlertSent records that the alert id went out at at.
	ChainAlertSent(ctx context.Context, id int64, at time.Time) error
}

// Alerter sends the alert of a broken chain to the national CERT's
// administrators (notify.Service.AlertNationalCERT).
type Alerter func(ctx context.Context, header, text string) error

// Watcher verifies the chain periodically (WatchJob) and raises an alert
// once per broken chain.
type Watcher struct {
	store WatchStore
	alert Alerter
	log   *slog.Logger
	now   func() time.Time
}

// NewWatcher returns a Watcher of store that alerts through alert; now nil
// means time.Now, log nil means slog.Default.
func NewWatcher(store WatchStore, alert Alerter, log *slog.Logger, now func() time.Time) (*Watcher, error) {
	if store == nil || alert == nil {
		return nil, errors.New("audit: a watcher needs a store and an alerter")
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Watcher{store: store, alert: alert, log: log, now: now}, nil
}

// Check verifies the chain. When it is broken it raises the alert of its
// first fault unless that alert went out already: the same break is
// reported once however often Check runs; a different first fault is a
// new alert. When the chain verifies, open alerts are resolved. An alert
// that could not be sent is an error and is sent by the next Check.
func (w *Watcher) Check(ctx context.Context) (Verification, error) {
	v, err := Verify(ctx, w.store)
	if err != nil {
		return v, err
	}
	now := w.now().UTC()
	if v.Fault == nil {
		return v, w.store.ResolveChainAlerts(ctx, now)
	}
	w.log.Error("the audit chain is broken", "fault", v.Fault.Key(), "detail", v.Fault.Detail)
	a, err := w.store.OpenChainAlert(ctx, v.Fault.Key(), v.Fault.Detail, now)
	if err != nil {
		return v, fmt.Errorf("raise the audit chain alert: %w", err)
	}
	if a.SentAt != nil {
		return v, nil
	}
	text := fmt.Sprintf("certdesk's audit log does not verify: %s. Someone changed or deleted audit rows "+
		"in the database, around the audit checks. Run `certdesk audit verify` and compare with your backups "+
		"(docs/reliability.md).", v.Fault.Detail)
	if err := w.alert(ctx, "Audit log tampering detected", text); err != nil {
		return v, fmt.Errorf("send the audit chain alert: %w", err)
	}
	return v, w.store.ChainAlertSent(ctx, a.ID, now)
}

// WatchInterval is how often the chain is verified (WatchJob).
const WatchInterval = time.Hour

// WatchJob runs Watcher.Check; River's periodic scheduler inserts one
// every WatchInterval on the leading worker process.
type WatchJob struct{}

// Kind identifies the job.
func (WatchJob) Kind() string { return "audit.verify" }
