// SPDX-License-Identifier: Apache-2.0

//go:build unix

package opserver

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) the process has used, all
// threads; ok is false where it cannot be read.
func processCPU() (d time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
