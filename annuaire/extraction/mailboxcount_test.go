// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMailboxCountsAreDistinctAddresses: one address on three rows (three
// structures, in two letter cases) and once more as an identical duplicate.
// Report.Mailboxes, Index.Domains and ByDomain count and give that mailbox
// once; Report.Rows, Len and the listings by place give each row. Before
// the fix Mailboxes and Domains counted rows, and ByDomain gave the
// mailbox three times.
func TestMailboxCountsAreDistinctAddresses(t *testing.T) {
	const data = "Type de BAL|Adresse BAL|Nom d'exercice|Raison Sociale structure BAL|Code postal structure BAL\n" +
		"PER|shared@ch-a.mssante.fr|PARTAGE|CH A|75001\n" +
		"PER|other@ch-a.mssante.fr|AUTRE|CH A|75001\n" +
		"PER|Shared@CH-A.mssante.fr|PARTAGE|CLINIQUE B|13005\n" +
		"PER|shared@ch-a.mssante.fr|PARTAGE|CABINET C|69003\n" +
		"PER|shared@ch-a.mssante.fr|PARTAGE|CH A|75001\n" + // identical to the first row
		"ORG|accueil@ch-b.mssante.fr||CH B|75001\n"
	for _, w := range []int{1, 3} {
		ix, err := LoadIndex(context.Background(), strings.NewReader(data), LoadOptions{Workers: w})
		require.NoError(t, err)
		rep := ix.Report()
		assert.Equal(t, 6, rep.Lines)
		assert.Equal(t, 1, rep.Tolerated.Duplicates)
		assert.Equal(t, 5, rep.Rows, "rows")
		assert.Equal(t, 5, ix.Len(), "Len counts rows")
		assert.Equal(t, 3, rep.Mailboxes, "mailboxes: distinct addresses")
		assert.Equal(t, 3, rep.Addresses)

		assert.Equal(t, map[string]int{"ch-a.mssante.fr": 2, "ch-b.mssante.fr": 1}, ix.Domains())
		var got []string
		for m := range ix.ByDomain("CH-A.MSSANTE.FR") {
			got = append(got, m.Address+" "+m.Structure.Name)
		}
		// Each mailbox once, by its first row (the one Lookup gives).
		assert.Equal(t, []string{"shared@ch-a.mssante.fr CH A", "other@ch-a.mssante.fr CH A"}, got)
		first, ok := ix.Lookup("SHARED@ch-a.mssante.fr")
		require.True(t, ok)
		assert.Equal(t, "CH A", first.Structure.Name)
		total := 0
		for _, n := range ix.Domains() {
			total += n
		}
		assert.Equal(t, rep.Mailboxes, total, "Domains adds up to Mailboxes")

		// Rows stay rows where the key belongs to the row.
		assert.Len(t, ix.LookupAll("shared@ch-a.mssante.fr"), 3)
		assert.Len(t, slices.Collect(ix.ByPostalCode("75001")), 3)
		assert.Len(t, slices.Collect(ix.ByPostalCode("13005")), 1)
		assert.Len(t, slices.Collect(ix.All()), 5)
	}
	var nilIndex *Index
	assert.Empty(t, slices.Collect(nilIndex.ByDomain("ch-a.mssante.fr")))
	assert.Empty(t, nilIndex.Domains())
}
