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
	// minimisation crawl on a busy disk. The journal is written over
	// and then cut to its length, not truncated first (os.WriteFile):
	// ext4 flushes a file truncated to zero and rewritten when it is
	// closed (auto_da_alloc), milliseconds per input.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := overwrite(filepath.Join(dir, journalName), append([]byte(journalMagic), data...)); err != nil {
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

// overwrite replaces the content of the file at path with data, without
// truncating it to zero first.
func overwrite(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Truncate(int64(len(data)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
