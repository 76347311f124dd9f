// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func flEvent(i int) Event {
	return Event{
		Time:      time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
		Actor:     Actor{ID: "801234567890", IDType: "IDNPS", Name: "Marcel CAMPARINI", Auth: AuthCPS},
		Mailbox:   Mailbox{Address: "marcel.camparini@lilas.mssante.fr", Kind: "PER"},
		Action:    Send,
		Request:   Request{Server: "smtp.lilas.mssante.fr:587", Command: "RCPT TO", Params: []string{fmt.Sprintf("<dest%d@chu.mssante.fr>", i)}},
		Response:  Response{OK: true, Code: "250", Text: "2.1.5 Ok"},
		MessageID: fmt.Sprintf("<%d@lilas.mssante.fr>", i),
	}
}

func flConfig(path string, s note.Signer, v note.Verifier) FileLogConfig {
	return FileLogConfig{Path: path, Signer: s, Verifier: v, CheckpointEvery: 10, Retention: -1,
		Now: func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }}
}

// flWrite writes events from..to-1 to the log (created or reopened) and
// closes it.
func flWrite(t *testing.T, cfg FileLogConfig, from, to int) {
	t.Helper()
	l, err := OpenFileLog(cfg)
	require.NoError(t, err)
	for i := from; i < to; i++ {
		require.NoError(t, l.Record(context.Background(), flEvent(i)))
	}
	require.NoError(t, l.Close())
}

func flLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return bytes.SplitAfter(data, []byte("\n"))
}

// Bug 1: a head built by someone without the signing key from a regular
// checkpoint (frontier and chain hash computed from the public records),
// with the records before it deleted, is refused; a real Prune verifies.
func TestForgedPruneRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	s, v := KeysForTest(t)
	var kept []string
	cfg := flConfig(path, s, v)
	cfg.OnCheckpoint = func(c *Checkpoint) { kept = append(kept, c.Note) }
	flWrite(t, cfg, 0, 30) // checkpoints at 10, 20, 30

	// The forgery: cut at the regular checkpoint of size 20.
	const start = 20
	ls := flLines(t, path) // head, records 0..29, ""
	cps, _, err := readCheckpointLines(path)
	require.NoError(t, err)
	var cut string
	for _, m := range cps {
		c, err := openCheckpoint(m, note.VerifierList(v))
		require.NoError(t, err)
		if c.Prune != "" {
			t.Fatalf("a regular checkpoint carries the prune marker: %q", m)
		}
		if c.Size == start {
			cut = m
		}
	}
	if cut == "" {
		t.Fatal("no checkpoint at 20")
	}
	var state frontier
	var prev string
	for _, line := range ls[1 : 1+start] {
		line = bytes.TrimSuffix(line, []byte("\n"))
		state.add(tlog.RecordHash(line))
		prev = lineHash(line)
	}
	head := &logHead{Version: 1, Origin: "gomss/trace", Start: start, Prev: prev, Cut: cut}
	for i, idx := range state.storedIndexes() {
		head.Frontier = append(head.Frontier, frontierEntry{Index: idx, Hash: state.nodes[i]})
	}
	hb, _ := json.Marshal(headLine{Head: head})
	forged := append(append(hb, '\n'), bytes.Join(ls[1+start:], nil)...)
	require.NoError(t, os.WriteFile(path, forged, 0o600))
	var cbuf []byte
	for _, m := range cps[1:] { // 20 and 30
		line, _ := json.Marshal(checkpointLine{Checkpoint: m})
		cbuf = append(append(cbuf, line...), '\n')
	}
	require.NoError(t, os.WriteFile(path+".checkpoints", cbuf, 0o600))
	var ce *CorruptionError
	if res, err := Verify(path, v); !errors.As(err, &ce) || ce.Record != -1 || !errors.Is(err, ErrTampered) {
		t.Errorf("Verify accepted a prune forged from a regular checkpoint: %+v %v", res, err)
	}
	if res, err := VerifyAgainst(path, v, kept...); !errors.Is(err, ErrTampered) {
		t.Errorf("VerifyAgainst accepted a forged prune: %+v %v", res, err)
	}
	if l, err := OpenFileLog(cfg); err == nil || !errors.Is(err, ErrTampered) {
		t.Errorf("OpenFileLog accepted a forged prune: %v", err)
		if l != nil {
			l.Close()
		}
	}

	// A real Prune: marked, verifies, reopens.
	path = filepath.Join(t.TempDir(), "trace.jsonl")
	kept = nil
	var cutCP *Checkpoint
	cfg = flConfig(path, s, v)
	cfg.OnCheckpoint = func(c *Checkpoint) {
		kept = append(kept, c.Note)
		if c.Prune != "" {
			cutCP = c
		}
	}
	l, err := OpenFileLog(cfg)
	require.NoError(t, err)
	for i := range 30 {
		require.NoError(t, l.Record(context.Background(), flEvent(i)))
	}
	n, err := l.Prune(flEvent(start).Time)
	require.NoError(t, err, "Prune")
	require.EqualValues(t, start, n, "Prune")
	require.NoError(t, l.Close())
	if cutCP == nil || cutCP.Size != start || cutCP.Prune != flEvent(start).Time.UTC().Format(time.RFC3339) {
		t.Fatalf("the cut handed over: %+v", cutCP)
	}
	res, err := Verify(path, v)
	require.NoError(t, err, "a real prune")
	require.EqualValues(t, start, res.Start, "a real prune")
	require.EqualValues(t, 10, res.Records, "a real prune")
	res, err = VerifyAgainst(path, v, kept...)
	require.NoError(t, err, "a real prune against its checkpoints")
	require.EqualValues(t, start, res.Start, "a real prune against its checkpoints")
	flWrite(t, cfg, 30, 35)
	res, err = Verify(path, v)
	require.NoError(t, err, "a real prune, reopened")
	require.EqualValues(t, start, res.Start, "a real prune, reopened")
	require.EqualValues(t, 15, res.Records, "a real prune, reopened")
}

// Bug 2: one writer per log.
func TestSecondWriterLocked(t *testing.T) {
	if !fileLocking {
		t.Skip("no file locking on this system")
	}
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	s, v := KeysForTest(t)
	cfg := flConfig(path, s, v)
	l, err := OpenFileLog(cfg)
	require.NoError(t, err)
	if l2, err := OpenFileLog(cfg); !errors.Is(err, ErrLocked) {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("second writer: %v", err)
	}
	for i := range 15 {
		require.NoError(t, l.Record(context.Background(), flEvent(i)))
	}
	// Prune renames a new file into place: the lock holds.
	if _, err := l.Prune(flEvent(5).Time); err != nil {
		t.Fatal(err)
	}
	if l2, err := OpenFileLog(cfg); !errors.Is(err, ErrLocked) {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("second writer after Prune: %v", err)
	}
	require.NoError(t, l.Close())
	l2, err := OpenFileLog(cfg)
	require.NoError(t, err, "after Close")
	require.NoError(t, l2.Record(context.Background(), flEvent(15)))
	require.NoError(t, l2.Close())
	res, err := Verify(path, v)
	require.NoError(t, err)
	require.EqualValues(t, 5, res.Start)
	require.EqualValues(t, 11, res.Records)
}

// Bug 3: a checkpoint line cut by a crash is tolerated and repaired; a
// complete bad line is not.
func TestTornCheckpointLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	s, v := KeysForTest(t)
	cfg := flConfig(path, s, v)
	flWrite(t, cfg, 0, 25) // checkpoints at 10, 20, 25
	clean, err := os.ReadFile(path + ".checkpoints")
	require.NoError(t, err)
	cls := bytes.SplitAfter(clean, []byte("\n"))
	last := cls[len(cls)-2]
	torn := append(append([]byte(nil), clean...), last[:len(last)/2]...)
	require.NoError(t, os.WriteFile(path+".checkpoints", torn, 0o600))
	res, err := Verify(path, v)
	require.NoError(t, err, "torn checkpoint line")
	require.True(t, res.IncompleteCheckpoint, "torn checkpoint line")
	require.EqualValues(t, 3, res.Checkpoints, "torn checkpoint line")
	require.EqualValues(t, 25, res.Records, "torn checkpoint line")
	flWrite(t, cfg, 25, 31)
	res, err = Verify(path, v)
	require.NoError(t, err, "after reopening")
	require.False(t, res.IncompleteCheckpoint, "after reopening")
	require.EqualValues(t, 31, res.Records, "after reopening")
	require.EqualValues(t, 4, res.Checkpoints, "after reopening")
	require.EqualValues(t, 0, res.Unsigned, "after reopening")
	data, _ := os.ReadFile(path + ".checkpoints")
	if !bytes.HasPrefix(data, clean) {
		t.Error("the complete checkpoint lines were changed")
	}

	// A checkpoint appended after a torn line (a failed append, the log
	// still open) goes on a line of its own.
	// (A partial line of the checkpoint at 25 in front of a log of 31
	// records is refused first: it is not the beginning of theirs.)
	require.NoError(t, os.WriteFile(path+".checkpoints", append(append([]byte(nil), data...), last[:len(last)/3]...), 0o600))
	_, err = OpenFileLog(cfg)
	require.ErrorIs(t, err, ErrTampered, "a partial line of the checkpoint at 25 before 31 records")
	require.NoError(t, os.WriteFile(path+".checkpoints", data, 0o600))
	l, err := OpenFileLog(cfg)
	require.NoError(t, err)
	require.NoError(t, l.Record(context.Background(), flEvent(31)))
	f, _ := os.OpenFile(path+".checkpoints", os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte(`{"checkpoint":"gomss`))
	f.Close()
	if _, err := l.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	res, err = Verify(path, v)
	require.NoError(t, err, "checkpoint appended after a torn line")
	require.False(t, res.IncompleteCheckpoint, "checkpoint appended after a torn line")
	require.EqualValues(t, 32, res.Records, "checkpoint appended after a torn line")
	require.EqualValues(t, 0, res.Unsigned, "checkpoint appended after a torn line")

	// A complete line that is not a checkpoint, in the middle or last, is
	// tampering.
	good, _ := os.ReadFile(path + ".checkpoints")
	gls := bytes.SplitAfter(good, []byte("\n"))
	for name, cp := range map[string][]byte{
		"middle":      bytes.Join(append(append(append([][]byte{}, gls[:2]...), []byte("garbage\n")), gls[2:]...), nil),
		"middle torn": bytes.Join(append(append(append([][]byte{}, gls[:2]...), last[:len(last)/2], []byte("\n")), gls[2:]...), nil),
		"last":        append(append([]byte(nil), good...), "garbage\n"...),
	} {
		os.WriteFile(path+".checkpoints", cp, 0o600)
		var ce *CorruptionError
		if res, err := Verify(path, v); !errors.As(err, &ce) || ce.Record != -1 {
			t.Errorf("%s: a bad complete checkpoint line verifies: %+v %v", name, res, err)
		}
		if l, err := OpenFileLog(cfg); err == nil {
			l.Close()
			t.Errorf("%s: OpenFileLog accepted a bad complete checkpoint line", name)
		}
		if got, _ := os.ReadFile(path + ".checkpoints"); !bytes.Equal(got, cp) {
			t.Errorf("%s: the checkpoints file was changed", name)
		}
	}
}

// Bug 4: a durable Record racing Close returns nil only for an event that
// is in the log, else ErrClosed.
func TestDurableRecordRacingClose(t *testing.T) {
	s, v := KeysForTest(t)
	for round := range 30 {
		path := filepath.Join(t.TempDir(), "trace.jsonl")
		cfg := flConfig(path, s, v)
		cfg.Durable = true
		cfg.CheckpointEvery = 7
		l, err := OpenFileLog(cfg)
		require.NoError(t, err)
		var mu sync.Mutex
		ok := map[string]bool{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := 0; ; i++ {
					e := flEvent(g*1000 + i)
					e.ID = fmt.Sprintf("%02d-%03d-%04d", round, g, i)
					err := l.Record(context.Background(), e)
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("Record racing Close: %v", err)
						return
					}
					mu.Lock()
					ok[e.ID] = true
					mu.Unlock()
				}
			}()
		}
		close(start)
		time.Sleep(time.Duration(round%5) * time.Millisecond)
		require.NoError(t, l.Close())
		wg.Wait()
		if _, err := Scan(path, Filter{}, func(_ int64, e Event) error {
			delete(ok, e.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(ok) > 0 {
			t.Fatalf("round %d: %d events recorded (nil) are not in the log", round, len(ok))
		}
		res, err := Verify(path, v)
		require.NoError(t, err, "round %d", round)
		require.EqualValues(t, 0, res.Unsigned, "round %d", round)
	}
}
