// SPDX-License-Identifier: Apache-2.0

//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd || windows)

package outbox

import "os"

// lockingSupported reports whether OpenJournal locks the journal.
const lockingSupported = false

// lockFile does not lock on systems without flock(2) or LockFileEx: one
// process at a time must open a journal there.
func lockFile(string) (*os.File, error) { return nil, nil }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
