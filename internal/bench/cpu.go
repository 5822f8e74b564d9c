package bench

import (
	"fmt"
	"runtime"
	"syscall"
	"time"
)

// cpuMark is the processor time used so far by the bench's PostgreSQL
// cluster and by the bench process (certdesk's server and workers and the
// load's clients run in it), and when it was read.
type cpuMark struct {
	pg, self time.Duration
	at       time.Time
}

func (e *env) cpuNow() (cpuMark, error) {
	pg, err := e.cluster.CPU()
	if err != nil {
		return cpuMark{}, err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuMark{}, fmt.Errorf("getrusage: %w", err)
	}
	self := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpuMark{pg: pg, self: self, at: time.Now()}, nil
}

// cpuUse is the processor time a phase used per unit of work (a report),
// and how busy the machine's cores were.
type cpuUse struct {
	pgPer, selfPer time.Duration
	busy           float64 // (PostgreSQL + bench process) / (wall time × cores)
}

func cpuBetween(a, b cpuMark, units int) cpuUse {
	if units <= 0 {
		return cpuUse{}
	}
	wall := b.at.Sub(a.at)
	u := cpuUse{pgPer: (b.pg - a.pg) / time.Duration(units), selfPer: (b.self - a.self) / time.Duration(units)}
	if wall > 0 {
		u.busy = float64(b.pg-a.pg+b.self-a.self) / float64(wall) / float64(runtime.NumCPU())
	}
	return u
}
