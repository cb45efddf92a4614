package redistest

import "syscall"

// childAttr makes the kernel kill a server if the test process dies without stopping it (a crashed or killed
// go test), so no redis-server outlives its tests. (Linux ties this to the thread that started the child; the
// Go runtime only ends a thread when a goroutine that locked it exits, which the harness never does.)
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
