// SPDX-License-Identifier: Apache-2.0

package opserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/annuaire/extraction"
	"github.com/ecdaf744/gomss/annuaire/fhir"
	"github.com/ecdaf744/gomss/annuaire/listeblanche"
	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insi"
)

// The other counterparts the command stands for, used with its settings
// alone: the INSi fake answers the ANS test identity to a client holding
// the written INSI-AUTO certificate, and the Annuaire Santé fake lists the
// CPS holder's mailbox to a client with the written API key.
func TestINSiAndAnnuaireFakes(t *testing.T) {
	_, c := startFromFiles(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard
	defer cancel()

	pfx, err := os.ReadFile(c.st.Files["insiAutoP12"])
	require.NoError(t, err)
	cert, err := bal.NewCertificateFromPKCS12(pfx, c.st.P12Password)
	require.NoError(t, err)
	cred, err := insi.NewMTLS(cert.Cert)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	b, err := os.ReadFile(c.st.Files["insiRoots"])
	require.NoError(t, err)
	require.True(t, roots.AppendCertsFromPEM(b))
	client, err := insi.New(insi.Config{Endpoint: c.st.INSi, Credentials: cred, TLS: &tls.Config{RootCAs: roots},
		Software: insi.Software{IDAM: "PDP17NF21DD0", Name: "opserver-test", Version: "1.0", Instance: "ff67308e-039f-4158-9dcc-0a08a20ba35c"}})
	require.NoError(t, err)
	defer client.Close()
	sr, err := client.Search(ctx, ins.Traits{BirthFamilyName: "ECETINSI", BirthGivenNames: "PIERRE-ALAIN MURIEL",
		Sex: ins.Male, BirthDate: ins.Date{Year: 2009, Month: 7, Day: 14}})
	require.NoError(t, err)
	require.NotNil(t, sr.Result)
	assert.Equal(t, "00", sr.Result.CR)
	assert.Equal(t, "109076322083489", sr.Result.INS.Matricule.String())

	fc := &fhir.Client{BaseURL: c.st.Annuaire, APIKey: c.st.AnnuaireKey}
	found := 0
	for bundle, err := range fc.Search(ctx, "Practitioner", url.Values{"mailbox-mss": {baltest.CPSUser}}) {
		require.NoError(t, err)
		found += len(bundle.Entry)
	}
	assert.Equal(t, 1, found, "the CPS holder, by mailbox")
}

// The extraction and the liste blanche written into the folder read with
// the SDK's own readers: the checksum verifies, the operator's domain is
// trusted, and each mailbox is in the extraction with its kind (the CPS
// holder's personal mailbox with the holder's identifiers).
func TestAnnuaireFiles(t *testing.T) {
	_, c := startFromFiles(t)
	f, err := os.Open(c.st.Files["listeBlanche"])
	require.NoError(t, err)
	defer f.Close()
	sum, err := os.ReadFile(c.st.Files["listeBlancheChecksum"])
	require.NoError(t, err)
	lb, err := listeblanche.Read(f, string(sum))
	require.NoError(t, err)
	assert.True(t, lb.Trusted(baltest.CPSUser))
	assert.False(t, lb.Trusted("dr@ailleurs.example.fr"))

	ix, err := extraction.LoadIndexFile(context.Background(), c.st.Files["extraction"], extraction.LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, len(c.st.Mailboxes), ix.Len())
	assert.Zero(t, ix.Report().ErrorCount, "%+v", ix.Report().Errors)
	m, ok := ix.Lookup(baltest.CPSUser)
	require.True(t, ok)
	assert.Equal(t, baltest.DefaultCPSHolder.IDNat, m.Owner.IDNPS)
	assert.EqualValues(t, "PER", m.Type)
	for _, b := range c.st.Mailboxes {
		_, ok := ix.Find(b.Address)
		assert.True(t, ok, b.Address)
	}
}
