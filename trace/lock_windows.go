// SPDX-License-Identifier: Apache-2.0

//go:build windows

package trace

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// fileLocking reports whether OpenFileLog locks the log (LockFileEx).
const fileLocking = true

// lockFile creates path if needed and takes an exclusive, non-blocking
// LockFileEx lock on its first byte; closing the returned file releases the
// lock (so does the end of the process, even killed). Windows locks belong
// to the handle: a second OpenFileLog in the same process is refused too,
// as with flock(2) on Unix.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	var ol windows.Overlapped
	err = windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if err != nil {
		f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, path)
		}
		return nil, fmt.Errorf("trace: locking %s: %w", path, err)
	}
	return f, nil
}
