// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/internal/testenv"
)

// readBody returns the whole DATA body whatever SIZE the client
// announced (none, too small, too large, beyond the limit), allocates the
// announced size once when it is right, and never more than the limit
// (or maxSizeHint without one) on the client's word alone.
func TestReadBody(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef\r\n"), 6000) // 108 KB
	allocated := func(r io.Reader, size, limit int64) ([]byte, uint64) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, err := readBody(r, size, limit)
		runtime.ReadMemStats(&after)
		require.NoError(t, err)
		return got, after.TotalAlloc - before.TotalAlloc
	}
	n := int64(len(body))
	// about x: the heap's size classes round a large allocation up.
	about := func(x int64) uint64 { return uint64(x + x/10 + 16<<10) }
	for _, c := range []struct {
		name        string
		size, limit int64
		maxAlloc    uint64 // 0: not bounded
	}{
		{"size announced", n, 25_000_000, about(n)},
		{"no size", 0, 25_000_000, 0},
		{"size too small", n / 3, 25_000_000, 0},
		{"size too large", 2 * n, 25_000_000, about(2 * n)},
		{"size beyond the limit", 1 << 40, n + 10, about(n)},
		{"no limit", 1 << 40, -1, about(maxSizeHint)},
	} {
		t.Run(c.name, func(t *testing.T) {
			// DataErrReader: the last bytes come with io.EOF, as
			// go-smtp's reader gives them; HalfReader: short reads.
			got, alloc := allocated(iotest.DataErrReader(iotest.HalfReader(bytes.NewReader(body))), c.size, c.limit)
			require.Equal(t, body, got)
			t.Logf("%d bytes allocated for %d", alloc, n)
			if testenv.Race {
				t.Log("race detector: allocation bound not checked")
			} else if c.maxAlloc > 0 {
				assert.LessOrEqual(t, alloc, c.maxAlloc)
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := readBody(io.MultiReader(bytes.NewReader(body[:100]), iotest.ErrReader(boom)), n, 25_000_000)
		require.ErrorIs(t, err, boom)
	})
}
