package redistest

import "syscall"

// childAttr makes the kernel kill a server if the test process dies without stopping it (a crashed or killed
// go test), so no redis-server outlives its tests.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
