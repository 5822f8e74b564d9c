package playbook

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Playbook is a validated playbook.
type Playbook struct {
	File        string // the name it was loaded from
	ID          string
	Name        string
	Description string
	Version     int
	Triggers    []Trigger
	Steps       []Step // in file order
	// Source is the exact file content the playbook was parsed from, and
	// Hash its SHA-256 (hex). A run pins both: it re-parses Source, so
	// editing the file never changes a run in flight.
	Source []byte
	Hash   string

	idPos Pos
}

// Trigger names an event that starts the playbook, with an optional
// condition over the incident.
type Trigger struct {
	On   string     // one of Events
	When *Condition // nil: always
	Pos  Pos
}

// Step is one node of the playbook's graph.
type Step struct {
	ID        string
	Stage     string     // optional: the incident stage the step belongs to
	Needs     []string   // ids of the steps it waits for
	When      *Condition // nil: always
	Action    string     // one of Actions
	With      map[string]any
	Retry     Retry
	Timeout   time.Duration // 0: none
	OnFailure string        // "fail" (default), "continue" or a step id
	OnTimeout string        // "fail" (default), "continue" or a step id
	Pos       Pos
}

// Retry says how often a failing step is tried and how long to wait between
// attempts (doubled after each attempt).
type Retry struct {
	Attempts int           // total attempts, 1 when absent
	Backoff  time.Duration // first wait between attempts
}

// The outcomes on_failure and on_timeout accept besides a step id.
const (
	Fail     = "fail"
	Continue = "continue"
)

// Events lists the events a trigger may name.
var Events = []string{"incident.created", "incident.stage_changed", "incident.updated", "incident.escalated", "manual"}

// Pos is a position in a playbook file, 1-based.
type Pos struct {
	Line, Column int
}

// Error is one problem in a playbook file.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

// Error formats the problem as file:line:col: message.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Errors is every problem found in one load, sorted by file and position.
type Errors []*Error

// Error joins the problems, one per line.
func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// Step returns the step with the given id, or nil.
func (pb *Playbook) Step(id string) *Step {
	for i := range pb.Steps {
		if pb.Steps[i].ID == id {
			return &pb.Steps[i]
		}
	}
	return nil
}

// Handlers maps each handler step — a step named by another step's
// on_failure or on_timeout — to the steps whose failure or timeout jumps
// to it. A handler step runs only when jumped to; a run that ends without
// jumping to it skips it.
func (pb *Playbook) Handlers() map[string][]string {
	out := map[string][]string{}
	for _, s := range pb.Steps {
		for _, target := range []string{s.OnFailure, s.OnTimeout} {
			if target == "" || target == Fail || target == Continue || pb.Step(target) == nil {
				continue
			}
			if !slices.Contains(out[target], s.ID) {
				out[target] = append(out[target], s.ID)
			}
		}
	}
	return out
}

// HashSource returns the content hash Parse records in Playbook.Hash.
func HashSource(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
