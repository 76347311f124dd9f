// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/ecdaf744/gomss/mssante"
)

// TestOneErrAddress proves issue 16's "one concept, one type" for
// addresses: mssante.ErrAddress and annuaire.ErrAddress are one sentinel,
// so an address refused by mssante (CheckAddress, a message's recipient)
// and one refused by annuaire (SplitAddress, a Resolver's verdict) match
// errors.Is with either package's name.
func TestOneErrAddress(t *testing.T) {
	assert.Same(t, mssante.ErrAddress, annuaire.ErrAddress)

	errs := map[string]error{}
	errs["mssante.CheckAddress"] = mssante.CheckAddress("pas une adresse")
	_, _, errs["annuaire.SplitAddress"] = annuaire.SplitAddress("a@b@medecin.mssante.fr")
	m := reportMessage()
	m.To = []string{"pas une adresse"}
	errs["Message.Validate"] = m.Validate()
	v := (&annuaire.Resolver{}).Check(context.Background(), []string{"pas une adresse"})
	require.Len(t, v, 1)
	assert.Equal(t, annuaire.Invalid, v[0].Kind)
	errs["Resolver.Check"] = v[0].Err
	for name, err := range errs {
		require.ErrorIs(t, err, mssante.ErrAddress, name)
		require.ErrorIs(t, err, annuaire.ErrAddress, name)
	}
	require.NoError(t, mssante.CheckAddress("secretariat@chu-exemple.mssante.fr"))
}
