// SPDX-License-Identifier: Apache-2.0

//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package outbox

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockingSupported reports whether OpenJournal locks the journal.
const lockingSupported = true

// lockFile creates path if needed and takes an exclusive, non-blocking
// flock(2) on it; closing the returned file releases the lock, and so does
// the end of the process, even killed: a journal left by a crashed process
// opens at once.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
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
		return nil, fmt.Errorf("%w: locking %s: %w", ErrStore, path, err)
	}
	return f, nil
}

// syncDir makes a rename or a creation in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
