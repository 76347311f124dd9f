// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante"
)

// A SeenFile remembers across reopenings what was added; entries older
// than the retention are dropped by rewriting the file, so that it stays
// bounded; a last line torn by a crash during Add (which had not
// returned) is dropped, and the next Add does not glue onto it.
func TestSeenFileReopenRetentionTornLine(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seen.log")
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := openSeenFile(path, 48*time.Hour, clock)
	require.NoError(t, err)
	require.NoError(t, s.Add(ctx, "a@x.fr <1@x.fr>", "Traites"))
	now = now.Add(24 * time.Hour)
	require.NoError(t, s.Add(ctx, "a@x.fr <2@x.fr>", "Erreurs"))
	require.NoError(t, s.Close())
	require.ErrorContains(t, s.Add(ctx, "a@x.fr <3@x.fr>", "Traites"), "closed")

	// A crash in the middle of the next Add left half a line.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString("1796724000\tTraites\ta@x.fr <3@")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	now = now.Add(25*time.Hour + time.Second) // entry 1 is now 49 h old
	s, err = openSeenFile(path, 48*time.Hour, clock)
	require.NoError(t, err)
	got, err := s.Seen(ctx, "a@x.fr <1@x.fr>")
	require.NoError(t, err)
	assert.Empty(t, got, "past the retention")
	got, err = s.Seen(ctx, "a@x.fr <2@x.fr>")
	require.NoError(t, err)
	assert.Equal(t, "Erreurs", got)
	got, err = s.Seen(ctx, "a@x.fr <3@")
	require.NoError(t, err)
	assert.Empty(t, got, "the torn line is not an entry")
	require.NoError(t, s.Add(ctx, "a@x.fr <4@x.fr>", "Traites"))
	require.NoError(t, s.Close())

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	require.Len(t, lines, 2, "the file holds what is kept:\n%s", b)
	assert.True(t, strings.HasSuffix(lines[0], "\tErreurs\ta@x.fr <2@x.fr>"), lines[0])
	assert.True(t, strings.HasSuffix(lines[1], "\tTraites\ta@x.fr <4@x.fr>"), lines[1])
	s, err = openSeenFile(path, 48*time.Hour, clock)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Len())
	require.NoError(t, s.Close())
	left, err := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp"))
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary file left")
}

// A line that is not an entry, anywhere but at the torn end, is an error
// naming the file and the line: the loop must not forget silently what it
// handled. Add refuses entries that would break the file's lines.
func TestSeenFileDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seen.log")
	require.NoError(t, os.WriteFile(path, []byte("1796724000\tTraites\ta@x.fr <1@x.fr>\nnot an entry\n1796724000\tTraites\ta@x.fr <2@x.fr>\n"), 0o600))
	_, err := OpenSeenFile(path, 0)
	require.ErrorContains(t, err, "seen.log, line 2: not a seen entry")

	s, err := OpenSeenFile(filepath.Join(t.TempDir(), "seen.log"), 0)
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	for _, bad := range [][2]string{{"", "Traites"}, {"a\nb", "Traites"}, {"a", ""}, {"a", "x\ty"}} {
		assert.Error(t, s.Add(ctx, bad[0], bad[1]), "%q", bad)
	}
	assert.Zero(t, s.Len())
}

// SeenKey ties the Message-ID to the sender, in lower case; a message
// without either has no key (never taken for a copy).
func TestSeenKey(t *testing.T) {
	m := &mssante.Received{MessageID: "<1@x.fr>", From: &mssante.Address{Address: "Jean.Dupont@X.fr"}}
	assert.Equal(t, "jean.dupont@x.fr <1@x.fr>", SeenKey(m))
	assert.Empty(t, SeenKey(&mssante.Received{MessageID: "<1@x.fr>"}))
	assert.Empty(t, SeenKey(&mssante.Received{From: m.From}))
	assert.Empty(t, SeenKey(nil))
}
