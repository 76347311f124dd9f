// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzJournal: any bytes after the journal header open as an outbox or
// are refused with ErrCorrupt (or ErrStore), never a panic; what opens
// replays again to the same statuses.
func FuzzJournal(f *testing.F) {
	var good bytes.Buffer
	for _, r := range sampleRecords() {
		if err := encodeFrame(&good, r); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:good.Len()/2])
	f.Add([]byte{})
	bad := bytes.Clone(good.Bytes())
	bad[20] ^= 1
	f.Add(bad)
	// One directory per fuzzing process (its inputs run one at a time),
	// rewritten for each input: a new directory each time makes the
	// minimisation crawl on a busy disk.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, journalName), append([]byte(journalMagic), data...), 0o600); err != nil {
			t.Fatal(err)
		}
		open := func() (*Outbox, error) {
			j, err := OpenJournal(dir, &JournalOptions{NoSync: true})
			if err != nil {
				return nil, err
			}
			o, err := Open(context.Background(), Config{Store: j, Sender: testSender(&events{})})
			if err != nil {
				j.Close()
			}
			return o, err
		}
		o, err := open()
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrStore) {
				t.Fatalf("error wraps neither ErrCorrupt nor ErrStore: %v", err)
			}
			return
		}
		first := o.List(Filter{})
		o.Close()
		o2, err := open()
		if err != nil {
			t.Fatalf("opened once, not twice: %v", err)
		}
		defer o2.Close()
		second := o2.List(Filter{})
		if len(first) != len(second) {
			t.Fatalf("%d messages, then %d after reopening", len(first), len(second))
		}
	})
}
