// SPDX-License-Identifier: Apache-2.0

package fhir

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/annuaire"
)

// FuzzBundle decodes arbitrary JSON as a FHIR Bundle: no panic, errors
// wrap ErrBundle, and every mailbox found has its source set.
func FuzzBundle(f *testing.F) {
	for _, name := range []string{"practitioner.json", "practitionerrole.json", "organization.json", "practitioner-v1.json"} {
		b, err := os.ReadFile("../../testdata/annuaire/fhir/" + name)
		require.NoError(f, err)
		f.Add([]byte(`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + string(b) + `,"search":{"mode":"match"}}]}`))
	}
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":null}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Practitioner","telecom":7}}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var b Bundle
		if err := json.Unmarshal(in, &b); err != nil {
			return
		}
		_ = b.Next()
		rs, err := b.Decode()
		if err != nil {
			require.ErrorIs(t, err, ErrBundle)
			return
		}
		var ms []annuaire.Mailbox
		for _, p := range rs.Practitioners {
			ms = append(ms, p.Mailboxes()...)
			_ = p.Person()
		}
		for _, r := range rs.PractitionerRoles {
			ms = append(ms, r.Mailboxes()...)
		}
		for _, o := range rs.Organizations {
			ms = append(ms, o.Mailboxes()...)
		}
		for _, m := range ms {
			require.Equal(t, annuaire.FromAPI, m.Source, "%+v", m)
			require.NotEmpty(t, m.Address, "%+v", m)
			require.NotEmpty(t, m.Type, "%+v", m)
		}
	})
}
