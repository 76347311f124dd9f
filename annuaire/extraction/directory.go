// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/ecdaf744/gomss/annuaire"
)

// Directory holds the current Index and replaces it atomically when a newer
// extraction is loaded, while lookups go on: a lookup uses the index that was
// current when it started. The zero value is an empty directory, ready to
// use; a Directory must not be copied after first use.
type Directory struct {
	cur atomic.Pointer[Index]
}

// Index returns the current index, or nil before the first load.
func (d *Directory) Index() *Index { return d.cur.Load() }

// Swap makes ix current. When both ix and the current index know their
// generation time, an ix that is not newer is refused with ErrOlder.
func (d *Directory) Swap(ix *Index) error {
	if ix == nil {
		return errors.New("extraction: Directory.Swap: nil index")
	}
	for {
		old := d.cur.Load()
		if old != nil && !old.generated.IsZero() && !ix.generated.IsZero() && !ix.generated.After(old.generated) {
			return fmt.Errorf("%w: %s, current %s", ErrOlder, ix.generated.Format("2006-01-02 15:04"), old.generated.Format("2006-01-02 15:04"))
		}
		if d.cur.CompareAndSwap(old, ix) {
			return nil
		}
	}
}

// LoadFile loads an extraction file (see LoadIndexFile) and makes it
// current if it is newer. The report is returned even when the swap is
// refused. A file that cannot be loaded, a truncated one (ErrTruncated)
// included, leaves the current index in place.
func (d *Directory) LoadFile(ctx context.Context, path string, opts LoadOptions) (*Report, error) {
	ix, err := LoadIndexFile(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	return ix.Report(), d.Swap(ix)
}

// Lookup looks an address up in the current index.
func (d *Directory) Lookup(addr string) (annuaire.Mailbox, bool) {
	if ix := d.cur.Load(); ix != nil {
		return ix.Lookup(addr)
	}
	return annuaire.Mailbox{}, false
}

// Change is one mailbox that differs between two extractions.
type Change struct {
	// Address is the mailbox address (as written in the newer file when
	// it is there).
	Address string
	// Old and New are the mailbox's rows in each file (empty when absent).
	Old, New []annuaire.Mailbox
	// Fields names the columns whose values differ, for a changed mailbox
	// with one row on each side ("" otherwise).
	Fields []string
}

// Diff is what changed between two extractions, by address (compared
// without ASCII case), each list in the order of its file.
type Diff struct {
	Created []Change // in the new file only
	Deleted []Change // in the old file only
	Changed []Change // in both, with different rows
}

// Compare returns the mailboxes created, deleted and changed from old to new.
func Compare(old, new *Index) *Diff {
	var d Diff
	for addr, rows := range new.byAddress() {
		prev := old.LookupAll(addr)
		switch {
		case len(prev) == 0:
			d.Created = append(d.Created, Change{Address: addr, New: rows})
		case !sameRows(prev, rows):
			c := Change{Address: addr, Old: prev, New: rows}
			if len(prev) == 1 && len(rows) == 1 {
				c.Fields = changedFields(prev[0], rows[0])
			}
			d.Changed = append(d.Changed, c)
		}
	}
	for addr, rows := range old.byAddress() {
		if _, ok := new.Lookup(addr); !ok {
			d.Deleted = append(d.Deleted, Change{Address: addr, Old: rows})
		}
	}
	return &d
}

// byAddress iterates over the distinct addresses in file order with all
// their rows.
func (ix *Index) byAddress() iter.Seq2[string, []annuaire.Mailbox] {
	return func(yield func(string, []annuaire.Mailbox) bool) {
		for i := range ix.n {
			if !ix.live(i) {
				continue
			}
			addr := ix.field(i, fAddress)
			first := -1
			for j := range ix.addrRecords(addr) {
				if first < 0 || j < first {
					first = j
				}
			}
			if first != i {
				continue // yielded with its first row
			}
			if !yield(addr, ix.LookupAll(addr)) {
				return
			}
		}
	}
}

func sameRows(a, b []annuaire.Mailbox) bool {
	key := func(m annuaire.Mailbox) annuaire.Mailbox { m.Line = 0; return m }
	if len(a) != len(b) {
		return false
	}
	ka := make([]annuaire.Mailbox, len(a))
	kb := make([]annuaire.Mailbox, len(b))
	for i := range a {
		ka[i], kb[i] = key(a[i]), key(b[i])
	}
	for _, x := range ka {
		if !slices.Contains(kb, x) {
			return false
		}
	}
	return true
}

// changedFields names the extraction columns whose values differ.
func changedFields(a, b annuaire.Mailbox) []string {
	va, vb := columnValues(a), columnValues(b)
	var out []string
	for f := range va {
		if va[f] != vb[f] {
			out = append(out, columnNames[f])
		}
	}
	return out
}

// columnValues lays a Mailbox out as extraction columns.
func columnValues(m annuaire.Mailbox) [numFields]string {
	d := ""
	switch m.Digitization {
	case annuaire.DigitizationAccepted:
		d = "true"
	case annuaire.DigitizationRefused:
		d = "false"
	}
	o, s := m.Owner, m.Structure
	return [numFields]string{
		string(m.Type), strings.ToLower(m.Address), o.IDType, o.ID, o.IDNPS, s.IDType, s.ID, m.Service,
		o.Civility, o.Family, o.Given, o.Category.Code, o.Category.Label, o.Profession.Code,
		o.Profession.Label, o.Specialty.Code, o.Specialty.Label, d, s.Name, s.TradeName,
		s.Complement, s.Distribution, s.Number, s.NumberSuffix, s.StreetType, s.Street,
		s.Locality, s.CityLine, s.PostalCode, s.Department, s.Country,
	}
}
