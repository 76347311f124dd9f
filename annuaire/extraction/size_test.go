// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An extraction too large for an Index is refused cleanly, before any
// allocation: on 32-bit systems (GOARCH=386) a 2–4 GiB size converted to
// int was negative and made the load panic.
func TestSizeLimit(t *testing.T) {
	assert.NoError(t, checkSize(90<<20), "the national file (about 90 MB)")
	assert.NoError(t, checkSize(maxData))
	assert.ErrorIs(t, checkSize(maxData+1), ErrTooLarge)
	assert.ErrorIs(t, checkSize(int64(5)<<30), ErrTooLarge, "above the 32-bit offsets of the records")
	if strconv.IntSize == 32 {
		assert.ErrorIs(t, checkSize(int64(3)<<30), ErrTooLarge, "above what a 32-bit system can allocate")
		assert.EqualValues(t, math.MaxInt32, maxData)
	} else {
		assert.NoError(t, checkSize(int64(3)<<30))
		assert.EqualValues(t, int64(1<<32-1), int64(maxData))
	}

	_, err := LoadIndex(context.Background(), nil, LoadOptions{SizeHint: int64(5) << 30})
	require.ErrorIs(t, err, ErrTooLarge, "a size hint is checked before the buffer is allocated")

	// A sparse file of 5 GiB: refused from its size, nothing read.
	path := filepath.Join(t.TempDir(), "Extraction_Correspondance_MSSante_202608250215.txt")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(int64(5)<<30))
	require.NoError(t, f.Close())
	_, err = LoadIndexFile(context.Background(), path, LoadOptions{})
	require.ErrorIs(t, err, ErrTooLarge)
	assert.ErrorContains(t, err, path, "the error names the file")
}
