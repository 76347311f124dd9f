// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecdaf744/gomss/mssante"
)

// SeenStore remembers the document messages a Loop has handled, so that a
// second copy of one is recognised by its sender and Message-ID. Copies
// come from a sender that resends a message whose acceptance it could not
// know (the connection lost after the final "." of DATA: outbox.Outbox
// resends it with the same Message-ID, as issue 19 asks, so that the
// receiver can deduplicate), and from a relay that delivers a message
// again after its own restart (Postfix over LMTP).
//
// Seen returns the folder the first copy was filed in ("" when the key
// is unknown). Add records that the message with key was handled and is
// filed in folder; it returns once that is durable. The Loop calls Add
// after the handler returned and the acknowledgement was sent, before the
// message is moved. Implementations must be safe for one Loop (calls are
// not concurrent); SeenFile is the embedded default.
type SeenStore interface {
	Seen(ctx context.Context, key string) (folder string, err error)
	Add(ctx context.Context, key, folder string) error
}

// SeenKey is the key of m in a SeenStore: its From address (lower case)
// and its Message-ID. The sender is part of it so that a message cannot
// make another sender's message pass for a copy by taking its
// Message-ID. It is "" when m has no Message-ID or no From: such a
// message is never taken for a copy.
func SeenKey(m *mssante.Received) string {
	if m == nil || m.MessageID == "" || m.From == nil || m.From.Address == "" {
		return ""
	}
	return strings.ToLower(m.From.Address) + " " + m.MessageID
}

// memorySeen is the SeenStore of a Loop without one: copies are
// recognised while the process runs, not after a restart.
type memorySeen struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memorySeen) Seen(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], nil
}

func (s *memorySeen) Add(_ context.Context, key, folder string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]string)
	}
	s.m[key] = folder
	return nil
}

// DefaultSeenRetention is how long a SeenFile remembers a message when
// OpenSeenFile is given no retention: 90 days, far beyond an outbox's
// resend of a message of unknown acceptance (hours) and Postfix's
// redelivery (minutes), and within a year of messages (some 100,000 for a
// busy applicative BAL: about 10 MB of memory).
const DefaultSeenRetention = 90 * 24 * time.Hour

// SeenFile is a SeenStore kept in a file: one line per handled message
// (Unix time, folder, key), appended and synced (fsync) by Add, read into
// memory by OpenSeenFile. OpenSeenFile drops the entries older than the
// retention by rewriting the file (a temporary file renamed over it), so
// that the file stays bounded. A torn last line (a crash in the middle of
// an Add, before it returned) is ignored; any other line that cannot be
// read is an error: the file is not the loop's, or damaged, and the loop
// must not forget what it handled without saying so.
//
// A SeenFile belongs to one Loop: two processes must not share one.
type SeenFile struct {
	mu   sync.Mutex
	f    *os.File
	m    map[string]string
	now  func() time.Time
	path string
}

// OpenSeenFile opens (creating it when missing) the SeenFile at path,
// keeping the entries younger than retention (DefaultSeenRetention when
// zero or negative).
func OpenSeenFile(path string, retention time.Duration) (*SeenFile, error) {
	return openSeenFile(path, retention, time.Now)
}

func openSeenFile(path string, retention time.Duration, now func() time.Time) (*SeenFile, error) {
	if retention <= 0 {
		retention = DefaultSeenRetention
	}
	type entry struct {
		at     int64
		folder string
		key    string
	}
	var kept []entry
	m := make(map[string]string)
	dropped := 0
	if b, err := os.ReadFile(path); err == nil {
		cutoff := now().Add(-retention).Unix()
		lines := strings.SplitAfter(string(b), "\n")
		for i, line := range lines {
			if line == "" {
				continue
			}
			if !strings.HasSuffix(line, "\n") {
				if i == len(lines)-1 {
					dropped++ // torn by a crash during Add: it never returned
					continue
				}
			}
			at, folder, key, ok := parseSeenLine(strings.TrimSuffix(line, "\n"))
			if !ok {
				return nil, fmt.Errorf("bal: seen file %s, line %d: not a seen entry: %q", path, i+1, truncate(line, 80))
			}
			if at < cutoff {
				dropped++
				continue
			}
			kept = append(kept, entry{at, folder, key})
			m[key] = folder
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("bal: seen file: %w", err)
	}
	if dropped > 0 {
		// Rewrite what is kept, then rename it over the file: a crash
		// leaves either the old file or the new one.
		tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
		if err != nil {
			return nil, fmt.Errorf("bal: seen file: %w", err)
		}
		w := bufio.NewWriter(tmp)
		for _, e := range kept {
			w.WriteString(formatSeenLine(e.at, e.folder, e.key))
		}
		err = w.Flush()
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return nil, fmt.Errorf("bal: seen file: rewriting %s: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bal: seen file: %w", err)
	}
	return &SeenFile{f: f, m: m, now: now, path: path}, nil
}

// Len is the number of messages the file remembers.
func (s *SeenFile) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Seen implements SeenStore.
func (s *SeenFile) Seen(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], nil
}

// Add implements SeenStore: the entry is written and synced before it
// returns.
func (s *SeenFile) Add(_ context.Context, key, folder string) error {
	if key == "" || strings.ContainsAny(key, "\r\n") || folder == "" || strings.ContainsAny(folder, "\t\r\n") {
		return fmt.Errorf("bal: seen file: invalid entry %q in %q", key, folder)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return errors.New("bal: seen file " + s.path + " is closed")
	}
	if _, err := s.f.WriteString(formatSeenLine(s.now().Unix(), folder, key)); err != nil {
		return fmt.Errorf("bal: seen file: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("bal: seen file: %w", err)
	}
	s.m[key] = folder
	return nil
}

// Close closes the file.
func (s *SeenFile) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

func formatSeenLine(at int64, folder, key string) string {
	return strconv.FormatInt(at, 10) + "\t" + folder + "\t" + key + "\n"
}

func parseSeenLine(line string) (at int64, folder, key string, ok bool) {
	ts, rest, ok1 := strings.Cut(line, "\t")
	folder, key, ok2 := strings.Cut(rest, "\t")
	if !ok1 || !ok2 || folder == "" || key == "" {
		return 0, "", "", false
	}
	at, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return 0, "", "", false
	}
	return at, folder, key, true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
