//go:build linux

package pgembed

import "syscall"

// newSysProcAttr puts the child in its own process group, so that a Ctrl-C
// in the terminal does not reach it, and asks the kernel to send it
// deathSignal when the thread that started it exits, so that the server does
// not outlive a killed parent.
func newSysProcAttr(deathSignal syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSignal}
}
