// SPDX-License-Identifier: Apache-2.0

//go:build unix

package baltest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Messages returns the paths of the messages in the INBOX of the mailbox
// address, read from its maildir on disk (new and cur), so that a test can
// check that nothing was lost without going through IMAP. A mailbox that
// never received anything has no messages.
func (d *Dovecot) Messages(address string) ([]string, error) {
	inbox := filepath.Join(d.Dir, "mail", strings.ToLower(address))
	var paths []string
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(inbox, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("baltest: reading the INBOX of %s: %w", address, err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				paths = append(paths, filepath.Join(inbox, sub, e.Name()))
			}
		}
	}
	return paths, nil
}

// CountMessages returns the number of messages in the INBOX of address (see
// [Dovecot.Messages]).
func (d *Dovecot) CountMessages(address string) (int, error) {
	paths, err := d.Messages(address)
	return len(paths), err
}

// WaitMessages waits until the INBOX of address holds at least n messages
// and returns how many it holds, or returns an error when ctx ends first
// (with the end of Dovecot's log).
func (d *Dovecot) WaitMessages(ctx context.Context, address string, n int) (int, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := d.CountMessages(address)
		if err != nil || got >= n {
			return got, err
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("baltest: INBOX of %s holds %d messages, want %d: %w\n%s", address, got, n, ctx.Err(), logTail(d.LogPath, 20))
		case <-tick.C:
		}
	}
}
