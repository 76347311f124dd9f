// SPDX-License-Identifier: Apache-2.0

package trace_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func keys(t testing.TB) (note.Signer, note.Verifier) { return trace.KeysForTest(t) }

var paris = time.FixedZone("CET", 3600)

func event(i int) trace.Event {
	return trace.Event{
		Time:      time.Date(2026, 11, 24, 10, 0, 0, 0, paris).Add(time.Duration(i) * time.Second),
		Actor:     trace.Actor{ID: "801234567890", IDType: "IDNPS", Name: "Marcel CAMPARINI", Auth: trace.AuthCPS},
		Mailbox:   trace.Mailbox{Address: "marcel.camparini@lilas.mssante.fr", Kind: "PER"},
		Action:    trace.Send,
		Request:   trace.Request{Server: "smtp.lilas.mssante.fr:587", Command: "RCPT TO", Params: []string{fmt.Sprintf("<dest%d@chu.mssante.fr>", i)}},
		Response:  trace.Response{OK: true, Code: "250", Text: "2.1.5 Ok"},
		MessageID: fmt.Sprintf("<%d@lilas.mssante.fr>", i),
	}
}

func openLog(t testing.TB, path string, mod func(*trace.FileLogConfig)) (*trace.FileLog, note.Verifier) {
	t.Helper()
	s, v := keys(t)
	return openLogWith(t, path, s, v, mod), v
}

func openLogWith(t testing.TB, path string, s note.Signer, v note.Verifier, mod func(*trace.FileLogConfig)) *trace.FileLog {
	t.Helper()
	cfg := trace.FileLogConfig{Path: path, Signer: s, Verifier: v, CheckpointEvery: 10, Retention: -1}
	if mod != nil {
		mod(&cfg)
	}
	l, err := trace.OpenFileLog(cfg)
	require.NoError(t, err)
	return l
}

// writeLog writes n events and closes the log (a final checkpoint).
func writeLog(t testing.TB, n int) (string, note.Verifier) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	l, v := openLog(t, path, nil)
	for i := range n {
		require.NoError(t, l.Record(context.Background(), event(i)))
	}
	require.NoError(t, l.Close())
	return path, v
}

func TestFileLogVerifies(t *testing.T) {
	path, v := writeLog(t, 25)
	res, err := trace.Verify(path, v)
	require.NoError(t, err)
	assert.EqualValues(t, 25, res.Records)
	assert.EqualValues(t, 3, res.Checkpoints)
	assert.EqualValues(t, 25, res.LastCheckpoint.Size)
	assert.EqualValues(t, 0, res.Unsigned)
	assert.False(t, res.IncompleteTail)
	// Another key does not verify the checkpoints.
	_, other := keys(t)
	_, err = trace.Verify(path, other)
	assert.ErrorIs(t, err, trace.ErrTampered, "foreign key")
}

// lines returns the log's lines (head first).
func lines(t *testing.T, path string) [][]byte {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

func rewrite(t *testing.T, path string, ls [][]byte) {
	require.NoError(t, os.WriteFile(path, append(bytes.Join(ls, []byte("\n")), '\n'), 0o600))
}

// Every kind of tampering is detected and the first bad record named.
func TestFileLogMutations(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(ls [][]byte) [][]byte
		first  []int64 // acceptable first-bad records
	}{
		{"flip a byte", func(ls [][]byte) [][]byte {
			i := bytes.Index(ls[8], []byte("dest7"))
			ls[8][i+4] = '8'
			return ls
		}, []int64{7}},
		{"flip a byte in the last record", func(ls [][]byte) [][]byte {
			i := bytes.Index(ls[25], []byte("dest24"))
			ls[25][i+5] = '9'
			return ls
		}, []int64{20}},
		{"delete", func(ls [][]byte) [][]byte { return append(ls[:6], ls[7:]...) }, []int64{5}},
		{"reorder", func(ls [][]byte) [][]byte { ls[4], ls[5] = ls[5], ls[4]; return ls }, []int64{3}},
		{"insert a forged record", func(ls [][]byte) [][]byte {
			forged := bytes.Replace(append([]byte(nil), ls[4]...), []byte("dest3"), []byte("evil0"), 1)
			return append(ls[:5], append([][]byte{forged}, ls[5:]...)...)
		}, []int64{3, 4}},
		{"replay an old record", func(ls [][]byte) [][]byte {
			return append(ls[:11], append([][]byte{append([]byte(nil), ls[2]...)}, ls[11:]...)...)
		}, []int64{10}},
		{"truncate", func(ls [][]byte) [][]byte { return ls[:20] }, []int64{19}},
		{"rewrite the chain", func(ls [][]byte) [][]byte {
			// Change record 12 and recompute every later chain hash: only
			// the signed checkpoints can tell.
			return rewriteChain(ls)
		}, []int64{10}},
		{"garbage line", func(ls [][]byte) [][]byte { ls[3] = []byte("{not json"); return ls }, []int64{2}},
		{"head replaced", func(ls [][]byte) [][]byte {
			ls[0] = []byte(`{"head":{"version":1,"origin":"other","start":0}}`)
			return ls
		}, []int64{-1, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path, v := writeLog(t, 25)
			rewrite(t, path, c.mutate(lines(t, path)))
			_, err := trace.Verify(path, v)
			var ce *trace.CorruptionError
			if !errors.As(err, &ce) || !errors.Is(err, trace.ErrTampered) {
				t.Fatalf("not detected: %v", err)
			}
			ok := false
			for _, f := range c.first {
				ok = ok || ce.Record == f
			}
			if !ok {
				t.Errorf("first bad record %d, want one of %v: %v", ce.Record, c.first, err)
			}
			// A tampered log is never appended to.
			s, _ := keys(t)
			if _, err := trace.OpenFileLog(trace.FileLogConfig{Path: path, Signer: s, Verifier: v}); err == nil {
				t.Error("OpenFileLog accepted a tampered log")
			}
		})
	}
}

// A tampered checkpoint file is detected too.
func TestFileLogCheckpointTampering(t *testing.T) {
	path, v := writeLog(t, 25)
	data, _ := os.ReadFile(path + ".checkpoints")
	cp := bytes.Replace(data, []byte("\\n20\\n"), []byte("\\n21\\n"), 1)
	os.WriteFile(path+".checkpoints", cp, 0o600)
	_, err := trace.Verify(path, v)
	assert.ErrorIs(t, err, trace.ErrTampered, "edited checkpoint accepted")
}

// rewriteChain changes record 12 (line 13) and recomputes the chain hash
// of every later record, as an attacker without the signing key would.
func rewriteChain(ls [][]byte) [][]byte {
	ls[13] = bytes.Replace(ls[13], []byte("dest12"), []byte("dest99"), 1)
	for i := 14; i < len(ls); i++ {
		prev := chainHash(ls[i-1])
		j := bytes.Index(ls[i], []byte(`"prev":"`)) + 8
		k := bytes.IndexByte(ls[i][j:], '"')
		ls[i] = append(append(append([]byte(nil), ls[i][:j]...), prev...), ls[i][j+k:]...)
	}
	return ls
}

func chainHash(line []byte) []byte {
	// same as the package: base64 of SHA-256 of the line
	return []byte(trace.ChainHashForTest(line))
}

func TestInclusionProof(t *testing.T) {
	path, v := writeLog(t, 37)
	for _, i := range []int64{0, 1, 17, 36} {
		p, line, err := trace.Prove(path, i, v)
		require.NoError(t, err)
		assert.NoError(t, trace.VerifyInclusion(p, line, v), "record %d", i)
		assert.Error(t, trace.VerifyInclusion(p, bytes.Replace(line, []byte("CAMPARINI"), []byte("CAMPARINO"), 1), v), "record %d: a modified record passes the proof", i)
		wrong := *p
		wrong.Index = (i + 1) % 37
		assert.Error(t, trace.VerifyInclusion(&wrong, line, v), "record %d: proof accepted at another index", i)
	}
	if _, _, err := trace.Prove(path, 37, v); err == nil {
		t.Error("proof of a record beyond the log")
	}
}

func TestReopenAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	s, v := keys(t)
	cfg := trace.FileLogConfig{Path: path, Signer: s, Verifier: v, CheckpointEvery: 7, Retention: -1}
	for round := range 3 {
		l, err := trace.OpenFileLog(cfg)
		require.NoError(t, err)
		for i := range 5 {
			require.NoError(t, l.Record(context.Background(), event(round*5+i)))
		}
		l.Close()
	}
	res, err := trace.Verify(path, v)
	require.NoError(t, err)
	require.EqualValues(t, 15, res.Records)
}

func TestDurableGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	l, v := openLog(t, path, func(c *trace.FileLogConfig) { c.Durable = true; c.CheckpointEvery = 50 })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				assert.NoError(t, l.Record(context.Background(), event(g*100+i)))
			}
		}()
	}
	wg.Wait()
	// Durable: everything is in the file before Close.
	if n := len(lines(t, path)) - 1; n != 200 {
		t.Errorf("%d records on disk before Close, want 200", n)
	}
	l.Close()
	res, err := trace.Verify(path, v)
	require.NoError(t, err)
	require.EqualValues(t, 200, res.Records)
}

func TestPrune(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	l, v := openLog(t, path, func(c *trace.FileLogConfig) { c.Now = func() time.Time { return now } })
	for i := range 30 {
		e := event(i)
		e.Time = now.AddDate(0, -8, 0).Add(time.Duration(i) * 24 * time.Hour * 10) // every 10 days from 8 months ago
		require.NoError(t, l.Record(context.Background(), e))
	}
	removed, err := l.Prune(now.Add(-trace.DefaultRetention))
	require.NoError(t, err)
	if removed == 0 || removed >= 30 {
		t.Fatalf("removed %d", removed)
	}
	require.NoError(t, l.Record(context.Background(), event(100)))
	l.Close()
	res, err := trace.Verify(path, v)
	require.NoError(t, err)
	assert.EqualValues(t, removed, res.Start, "start records, removed")
	assert.EqualValues(t, 31-removed, res.Records, "start records, removed")
	var oldest time.Time
	trace.Scan(path, trace.Filter{}, func(_ int64, e trace.Event) error {
		if oldest.IsZero() {
			oldest = e.UTC
		}
		return nil
	})
	if oldest.Before(now.Add(-trace.DefaultRetention)) {
		t.Errorf("an event of %v survived the 6-month retention", oldest)
	}
	// Proofs still work after the cut.
	p, line, err := trace.Prove(path, res.Start+res.Records-1, v)
	require.NoError(t, err)
	assert.NoError(t, trace.VerifyInclusion(p, line, v))
	// Tampering after pruning is still detected.
	ls := lines(t, path)
	ls[2] = bytes.Replace(ls[2], []byte("CAMPARINI"), []byte("CAMPARINO"), 1)
	rewrite(t, path, ls)
	_, err = trace.Verify(path, v)
	assert.ErrorIs(t, err, trace.ErrTampered, "tampering after pruning")
}

func TestScanFilter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	l, _ := openLog(t, path, nil)
	for i := range 20 {
		e := event(i)
		if i%2 == 0 {
			e.Action = trace.Delete
			e.Mailbox.Address = "secretariat@lilas.mssante.fr"
		}
		if i%5 == 0 {
			e.Actor.ID = "809999999999"
		}
		l.Record(context.Background(), e)
	}
	l.Close()
	count := func(f trace.Filter) int {
		n := 0
		if _, err := trace.Scan(path, f, func(int64, trace.Event) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	base := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC) // 10:00 CET
	for name, c := range map[string]struct {
		f    trace.Filter
		want int
	}{
		"all":     {trace.Filter{}, 20},
		"deletes": {trace.Filter{Actions: []trace.Action{trace.Delete}}, 10},
		"mailbox": {trace.Filter{Mailbox: "SECRETARIAT@lilas.mssante.fr"}, 10},
		"actor":   {trace.Filter{ActorID: "809999999999"}, 4},
		"time":    {trace.Filter{From: base.Add(5 * time.Second), To: base.Add(10 * time.Second)}, 5},
		"and":     {trace.Filter{ActorID: "809999999999", Actions: []trace.Action{trace.Delete}}, 2},
	} {
		if got := count(c.f); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
}

// Fail closed: an event that cannot be recorded refuses the action.
func TestGuardFailClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	l, _ := openLog(t, path, nil)
	l.Close()
	g := &trace.Guard{Recorder: l}
	assert.ErrorIs(t, g.Record(context.Background(), event(1)), trace.ErrNotRecorded, "closed log, fail closed")
	var swallowed error
	g = &trace.Guard{Recorder: l, Policy: trace.FailOpen, OnError: func(_ trace.Event, err error) { swallowed = err }}
	if err := g.Record(context.Background(), event(1)); err != nil || !errors.Is(swallowed, trace.ErrClosed) {
		t.Errorf("fail open: %v, reported %v", err, swallowed)
	}
}

// Crash test: a writer killed in the middle of its writes leaves a log
// that verifies up to its last complete record, and that can be reopened
// and appended to.
func TestCrashLeavesVerifiableLog(t *testing.T) {
	if os.Getenv("GOMSS_TRACE_CRASH_CHILD") != "" {
		crashChild()
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.jsonl")
	skey, vkey, _ := note.GenerateKey(rand.Reader, "gomss-crash")
	for _, durable := range []string{"0", "1"} {
		os.Remove(path)
		os.Remove(path + ".checkpoints")
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashLeavesVerifiableLog$")
		cmd.Env = append(os.Environ(), "GOMSS_TRACE_CRASH_CHILD="+path, "GOMSS_SKEY="+skey, "GOMSS_VKEY="+vkey, "GOMSS_DURABLE="+durable)
		var out bytes.Buffer
		cmd.Stdout = &out
		require.NoError(t, cmd.Start())
		// Let it write for a while, then kill it without warning. The
		// child may be slow to start on a busy machine: the wait is for
		// its writes, bounded only against a hang.
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			if st, err := os.Stat(path); err == nil && st.Size() > 200_000 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		v, _ := note.NewVerifier(vkey)
		res, err := trace.Verify(path, v)
		require.NoError(t, err, "durable=%s: the log left by a killed writer does not verify", durable)
		if res.Records == 0 {
			t.Fatalf("durable=%s: nothing written", durable)
		}
		t.Logf("durable=%s: %d records verified, incomplete tail %v, %d checkpoints, %d unsigned", durable, res.Records, res.IncompleteTail, res.Checkpoints, res.Unsigned)
		s, _ := note.NewSigner(skey)
		l, err := trace.OpenFileLog(trace.FileLogConfig{Path: path, Signer: s, Verifier: v, Retention: -1})
		require.NoError(t, err, "reopen after crash")
		require.NoError(t, l.Record(context.Background(), event(1)))
		l.Close()
		res2, err := trace.Verify(path, v)
		require.NoError(t, err, "after recovery")
		require.EqualValues(t, res.Records+1, res2.Records, "after recovery")
		require.False(t, res2.IncompleteTail, "after recovery")
	}
}

// A write cut in the middle of a line (what a crash inside write(2) or a
// power loss leaves) verifies up to the previous record and is repaired
// on reopening.
func TestPartialLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	s, v := keys(t)
	l := openLogWith(t, path, s, v, func(c *trace.FileLogConfig) { c.CheckpointEvery = 5 })
	for i := range 12 {
		l.Record(context.Background(), event(i))
	}
	l.Close()
	data, _ := os.ReadFile(path)
	// remove the final checkpoint (it covers record 11) and cut record 11
	cps := lines(t, path+".checkpoints")
	rewrite(t, path+".checkpoints", cps[:len(cps)-1])
	os.WriteFile(path, data[:len(data)-40], 0o600)
	res, err := trace.Verify(path, v)
	require.NoError(t, err)
	require.True(t, res.IncompleteTail)
	require.EqualValues(t, 11, res.Records)
	l = openLogWith(t, path, s, v, nil)
	require.NoError(t, l.Record(context.Background(), event(99)))
	l.Close()
	res, err = trace.Verify(path, v)
	require.NoError(t, err, "after reopening")
	require.False(t, res.IncompleteTail, "after reopening")
	require.EqualValues(t, 12, res.Records, "after reopening")
	// A signer that does not match the verifier is refused.
	other, _ := keys(t)
	if _, err := trace.OpenFileLog(trace.FileLogConfig{Path: path, Signer: other, Verifier: v}); err == nil {
		t.Error("a signer that does not match the verifier was accepted")
	}
}

func crashChild() {
	path := os.Getenv("GOMSS_TRACE_CRASH_CHILD")
	s, _ := note.NewSigner(os.Getenv("GOMSS_SKEY"))
	v, _ := note.NewVerifier(os.Getenv("GOMSS_VKEY"))
	durable, _ := strconv.ParseBool(os.Getenv("GOMSS_DURABLE"))
	l, err := trace.OpenFileLog(trace.FileLogConfig{Path: path, Signer: s, Verifier: v, Durable: durable,
		CheckpointEvery: 100, FlushInterval: time.Millisecond, Retention: -1})
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		e := event(i)
		e.Request.Params = append(e.Request.Params, strings.Repeat("x", i%200))
		if err := l.Record(context.Background(), e); err != nil {
			fmt.Println(err)
			os.Exit(3)
		}
	}
}
