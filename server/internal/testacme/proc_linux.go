package testacme

import "syscall"

// sysProcAttr has the kernel kill the servers when the test binary dies
// without running its cleanups, for example on a timeout panic.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
