// SPDX-License-Identifier: Apache-2.0

//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package trace

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fileLocking reports whether OpenFileLog locks the log (flock(2)).
const fileLocking = true

// lockFile creates path if needed and takes an exclusive, non-blocking
// flock(2) on it; closing the returned file releases the lock (so does the
// end of the process, even killed).
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, path)
		}
		return nil, fmt.Errorf("trace: locking %s: %w", path, err)
	}
	return f, nil
}
