// SPDX-License-Identifier: Apache-2.0

//go:build windows

package outbox

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// lockingSupported reports whether OpenJournal locks the journal.
const lockingSupported = true

// lockFile creates path if needed and takes an exclusive, non-blocking
// LockFileEx lock on its first byte; closing the returned file releases the
// lock, and so does the end of the process, even killed.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	var ol windows.Overlapped
	err = windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if err != nil {
		f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, path)
		}
		return nil, fmt.Errorf("%w: locking %s: %w", ErrStore, path, err)
	}
	return f, nil
}

// syncDir does nothing on Windows: NTFS makes a rename durable with the
// file's own flush, and directories cannot be opened for syncing.
func syncDir(string) error { return nil }
