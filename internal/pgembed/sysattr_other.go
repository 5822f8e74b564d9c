//go:build !linux

package pgembed

import "syscall"

// newSysProcAttr puts the child in its own process group, so that a Ctrl-C
// in the terminal does not reach it. Outside Linux there is no parent-death
// signal, so deathSignal is ignored.
func newSysProcAttr(deathSignal syscall.Signal) *syscall.SysProcAttr {
	_ = deathSignal
	return &syscall.SysProcAttr{Setpgid: true}
}
