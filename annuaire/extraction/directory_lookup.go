// SPDX-License-Identifier: Apache-2.0

package extraction

import "github.com/ecdaf744/gomss/annuaire"

// LookupAll returns every row of an address in the current Index, in file
// order (none before the first load): with it a *Directory is a Resolver's
// Offline source, each lookup reading the Index loaded at that moment.
//
// It belongs with Directory (directory.go) and moves with it.
func (d *Directory) LookupAll(addr string) []annuaire.Mailbox {
	ix := d.Index()
	if ix == nil {
		return nil
	}
	return ix.LookupAll(addr)
}

var (
	_ annuaire.MailboxLookup = (*Directory)(nil)
	_ annuaire.MailboxLookup = (*Index)(nil)
)
