// SPDX-License-Identifier: Apache-2.0

package annuaire_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/ecdaf744/gomss/annuaire/annuairetest"
	"github.com/ecdaf744/gomss/annuaire/extraction"
	"github.com/ecdaf744/gomss/annuaire/fhir"
	"github.com/ecdaf744/gomss/annuaire/listeblanche"
)

const (
	fixtureDir = "../testdata/annuaire/"
	testKey    = "test-key-0123"
)

func loadListeBlanche(t testing.TB) *listeblanche.List {
	t.Helper()
	f, err := os.Open(fixtureDir + "listeblanche.xml")
	require.NoError(t, err)
	defer f.Close()
	sum, err := os.ReadFile(fixtureDir + "listeblanche.checksum")
	require.NoError(t, err)
	lb, err := listeblanche.Read(f, string(sum))
	require.NoError(t, err)
	return lb
}

// newAPI starts the fake API with the FHIR fixtures and returns a client
// of it that waits on no limiter.
func newAPI(t *testing.T) (*annuairetest.Server, *fhir.Client) {
	t.Helper()
	files, err := filepath.Glob(fixtureDir + "fhir/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var res [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		res = append(res, b)
	}
	srv, err := annuairetest.NewServer(testKey, res...)
	require.NoError(t, err)
	srv.RatePerSecond = -1
	t.Cleanup(srv.Close)
	return srv, &fhir.Client{BaseURL: srv.BaseURL(), APIKey: testKey, Limiter: fhir.NewLimiter(1e6)}
}

// TestResolverCheck runs the Resolver on the three real sources: a
// Directory loaded from the fixture extraction, the FHIR client against
// the fake API and the fixture liste blanche.
func TestResolverCheck(t *testing.T) {
	srv, api := newAPI(t)
	var dir extraction.Directory
	_, err := dir.LoadFile(context.Background(), fixtureDir+"Extraction_Correspondance_MSSante_202608250215.txt", extraction.LoadOptions{})
	require.NoError(t, err)
	r := &annuaire.Resolver{Offline: &dir, API: api, Trust: loadListeBlanche(t)}
	type row struct {
		addr    string
		kind    annuaire.Kind
		trusted bool
		source  annuaire.Source
		reason  string
	}
	want := []row{
		{"jeanne.exemple@medecin.mssante.fr", annuaire.MSSante, true, annuaire.FromExtraction, "PER mailbox of Jeanne EXEMPLE, Médecin"},
		{"h.fictif@ch-exemple.mssante.fr", annuaire.MSSante, true, annuaire.FromAPI, "the Annuaire Santé API as PER mailbox of Héloïse FICTIF"},
		{"raphael.cab@clinique-hélios.mssante.fr", annuaire.MSSante, true, annuaire.FromExtraction, "domain in the liste blanche"},
		{"zoe.oeuvre@infirmier.mssante.fr", annuaire.MSSante, false, annuaire.FromExtraction, "not in the liste blanche"},
		{"inconnu@msp-val-fleuri.mssante.fr", annuaire.TrustedDomain, true, 0, "not published"},
		{"279035121518989@patient.mssante.fr", annuaire.Patient, false, 0, "matricule INS @ patient.mssante.fr"},
		{"jean.dupont@patient.mssante.fr", annuaire.Patient, false, 0, "is not a 15-character matricule INS"},
		{"someone@gmail.com", annuaire.Unknown, false, 0, "not an MSSanté address"},
		{"pas une adresse", annuaire.Invalid, false, 0, "invalid address"},
	}
	var addrs []string
	for _, w := range want {
		addrs = append(addrs, w.addr)
	}
	vs := r.Check(context.Background(), addrs)
	require.Len(t, vs, len(want))
	for i, v := range vs {
		w := want[i]
		var src annuaire.Source
		if len(v.Mailboxes) > 0 {
			src = v.Mailboxes[0].Source
		}
		assert.Equal(t, w.addr, v.Address)
		assert.Equal(t, w.kind, v.Kind, v.Address)
		assert.Equal(t, w.trusted, v.Trusted, v.Address)
		assert.Equal(t, w.source, src, v.Address)
		assert.Contains(t, v.Reason, w.reason, v.Address)
		if w.kind == annuaire.Invalid {
			assert.ErrorIs(t, v.Err, annuaire.ErrAddress, v.Address)
		} else {
			assert.NoError(t, v.Err, v.Address)
		}
	}

	// The API failing does not stop the checks; the offline answer stands.
	srv.FailNext(annuairetest.Forced{Status: 400})
	vs = r.Check(context.Background(), []string{"inconnu2@msp-val-fleuri.mssante.fr", "jeanne.exemple@medecin.mssante.fr"})
	var ae *fhir.APIError
	require.ErrorAs(t, vs[0].Err, &ae)
	assert.Equal(t, 400, ae.StatusCode)
	assert.Equal(t, annuaire.TrustedDomain, vs[0].Kind)
	assert.Contains(t, vs[0].Reason, "API unavailable")
	assert.Equal(t, annuaire.MSSante, vs[1].Kind, "offline answer after an API failure")
	assert.NoError(t, vs[1].Err)

	// Offline only, without liste blanche.
	off := &annuaire.Resolver{Offline: &dir}
	v := off.Check(context.Background(), []string{"h.fictif@ch-exemple.mssante.fr"})[0]
	assert.Equal(t, annuaire.Unknown, v.Kind)
	assert.Contains(t, v.Reason, "liste blanche not loaded")

	// A Directory not loaded yet is a source that knows nothing.
	var empty extraction.Directory
	v = (&annuaire.Resolver{Offline: &empty}).Check(context.Background(), []string{"jeanne.exemple@medecin.mssante.fr"})[0]
	assert.Equal(t, annuaire.Unknown, v.Kind)
}
