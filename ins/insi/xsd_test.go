// SPDX-License-Identifier: Apache-2.0

package insi_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insi"
	"github.com/ecdaf744/gomss/ins/insitest"
	"github.com/ecdaf744/gomss/internal/testenv"
)

const requestSchema = "testdata/xsd/insi-request.xsd"

// Identities whose requests must validate: accents, apostrophes (straight
// and typographic), hyphens, long and compound names, one or several
// given names, with and without COG, characters XML must escape.
var xsdIdentities = []ins.Traits{
	{BirthFamilyName: "ECETINSI", FirstBirthGivenName: "PIERRE-ALAIN", BirthGivenNames: "PIERRE-ALAIN MURIEL FLORIANT", Sex: ins.Male, BirthDate: ins.Date{Year: 2009, Month: 7, Day: 14}, BirthPlace: "63220"},
	{BirthFamilyName: "LÉVÊQUE", FirstBirthGivenName: "Éloïse", BirthGivenNames: "Éloïse Gaëlle Maëlys", Sex: ins.Female, BirthDate: ins.Date{Year: 1988, Month: 12, Day: 31}},
	{BirthFamilyName: "N'GUYEN", FirstBirthGivenName: "THI", BirthGivenNames: "THI", Sex: ins.Female, BirthDate: ins.Date{Year: 1950, Month: 1, Day: 1}, BirthPlace: "99243"},
	{BirthFamilyName: "D’ARTAGNAN", FirstBirthGivenName: "CHARLES", BirthGivenNames: "CHARLES OGIER", Sex: ins.Male, BirthDate: ins.Date{Year: 1611, Month: 1, Day: 1}, BirthPlace: "32107"},
	{BirthFamilyName: "DE LA TOUR D'AUVERGNE-LAURAGUAIS DE SAINT-PAULET ET DE MONTMORENCY-FOSSEUX", FirstBirthGivenName: "MARIE-HÉLÈNE",
		BirthGivenNames: "MARIE-HÉLÈNE JEANNE-FRANÇOISE CLOTILDE ANNE-SOPHIE BÉRANGÈRE", Sex: ins.Female, BirthDate: ins.Date{Year: 2000, Month: 2, Day: 29}, BirthPlace: "2A004"},
	{BirthFamilyName: "O'BRIEN & FILS <TEST>", FirstBirthGivenName: "SEÁN", BirthGivenNames: "SEÁN", Sex: ins.Male, BirthDate: ins.Date{Year: 1975, Month: 6, Day: 15}, BirthPlace: "99136"},
	{BirthFamilyName: "ŒUVRAY", FirstBirthGivenName: "ZOÉ", BirthGivenNames: "ZOÉ", Sex: ins.Female, BirthDate: ins.Date{Year: 1975, Month: 12, Day: 31}, BirthPlace: "97411"},
	{BirthFamilyName: "MULLER", FirstBirthGivenName: "", BirthGivenNames: "JEAN  PAUL\tJACQUES", Sex: ins.Male, BirthDate: ins.Date{Year: 1961, Month: 3, Day: 9}},
}

// requests builds every request the strategy would send for xsdIdentities,
// in mTLS and CPx modes, and carte Vitale requests.
func requests(t *testing.T) [][]byte {
	p := testPKI(t)
	auto, err := insi.NewMTLS(p.Auto.TLSCertificate())
	require.NoError(t, err)
	cpx, err := insi.NewCPx(p.CPS.Key, p.CPS.Cert, insi.CPxOptions{BillingID: "123456789", Sector: "SA05"})
	require.NoError(t, err)
	var out [][]byte
	for _, cfg := range []insi.Config{
		{Endpoint: insi.EndpointQualificationMTLS, Software: testSoftware, Credentials: auto, TLS: p.ClientTLSConfig()},
		{Endpoint: insi.EndpointQualificationCPx, Software: testSoftware, Credentials: cpx, TLS: p.ClientTLSConfig()},
	} {
		c, err := insi.New(cfg)
		require.NoError(t, err)
		for _, id := range xsdIdentities {
			for _, given := range insi.GivenNameCandidates(id.FirstBirthGivenName, id.BirthGivenNames) {
				r, err := c.NewTraitsRequest(insi.TraitsQuery{BirthFamilyName: id.BirthFamilyName, GivenName: given, Sex: id.Sex, BirthDate: id.BirthDate, BirthPlace: id.BirthPlace})
				require.NoError(t, err)
				out = append(out, r.Body)
			}
		}
		for _, q := range []insi.VitaleQuery{
			{Individual: matricule(t, "109076322083489")},
			{Individual: matricule(t, "180032B02040123"), IndividualType: "01", BirthFamilyName: "CORSE", BirthDate: "1980-03-02", BirthRank: 1},
			{OpeningRights: matricule(t, "165027511300114"), OpeningRightsType: "01", BirthFamilyName: "MARTIN-D'ALEMBERT", BirthDate: "1997-00-00", BirthRank: 2},
		} {
			r, err := c.NewVitaleRequest(q)
			require.NoError(t, err)
			out = append(out, r.Body)
		}
	}
	return out
}

func writeFiles(t *testing.T, bodies [][]byte) []string {
	dir := t.TempDir()
	var files []string
	for i, b := range bodies {
		f := filepath.Join(dir, fmt.Sprintf("req%03d.xml", i))
		require.NoError(t, os.WriteFile(f, b, 0o600))
		files = append(files, f)
	}
	return files
}

func xmllint(t *testing.T, files ...string) (string, error) {
	t.Helper()
	bin := testenv.LookPath(t, "xmllint", "xmllint")
	args := append([]string{"--noout", "--nonet", "--schema", requestSchema}, files...)
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

// Every request the client writes is valid against the WSDL 1.5.0 schemas
// (xmllint --schema, strict), and passes the fake's structural checks.
func TestRequestsValidateAgainstXSD(t *testing.T) {
	bodies := requests(t)
	require.Greater(t, len(bodies), 40)
	out, err := xmllint(t, writeFiles(t, bodies)...)
	require.NoError(t, err, out)
	assert.Equal(t, len(bodies), strings.Count(out, " validates"), out)
	for i, b := range bodies {
		r := insitest.ValidateRequest(b)
		assert.Empty(t, r.Problems, "request %d", i)
	}
}

// The schema check can fail: requests broken in ways a writer could break
// them are refused by xmllint and by the fake.
func TestBrokenRequestsAreRefused(t *testing.T) {
	good := requests(t)[0]
	for name, mutate := range map[string]func(string) string{
		"Prenom after Sexe": func(s string) string {
			i, j := strings.Index(s, "<Prenom>"), strings.Index(s, "<Sexe>")
			k := strings.Index(s, "</Sexe>") + len("</Sexe>")
			return s[:i] + s[j:k] + s[i:j] + s[k:]
		},
		"no COUVERTURE":        func(s string) string { return strings.Replace(s, "<ctxbam:COUVERTURE/>", "", 1) },
		"no Version on BAM":    func(s string) string { return strings.Replace(s, ` Version="01_02"`, "", 1) },
		"wrong Nature":         func(s string) string { return strings.Replace(s, `Nature="CTXLPS"`, `Nature="LPS"`, 1) },
		"Temps not a dateTime": func(s string) string { return strings.Replace(s, "<ctxbam:Temps>", "<ctxbam:Temps>le ", 1) },
		"empty wsse:Security": func(s string) string {
			return strings.Replace(s, "</wsa:MessageID>", `</wsa:MessageID><wsse:Security xmlns:wsse="`+insi.NSWSSE+`"/>`, 1)
		},
		"unknown body element": func(s string) string { return strings.Replace(s, "<Sexe>", "<Genre>M</Genre><Sexe>", 1) },
		"no wsa:MessageID": func(s string) string {
			i := strings.Index(s, "<wsa:MessageID>")
			j := strings.Index(s, "</wsa:MessageID>") + 16
			return s[:i] + s[j:]
		},
	} {
		bad := []byte(mutate(string(good)))
		require.NotEqual(t, good, bad, name)
		out, err := xmllint(t, writeFiles(t, [][]byte{bad})...)
		assert.Error(t, err, "%s: xmllint accepted it:\n%s", name, out)
		assert.NotEmpty(t, insitest.ValidateRequest(bad).Problems, "%s: the fake accepted it", name)
	}
	assert.True(t, bytes.Contains(good, []byte("<RECSANSVITALE")))
}

// The fake's answers follow INSi_RESULTAT_INS.xsd, and its faults'
// siram:Erreur follows schema_faultSOAP_V01_01.xsd: what vendors test
// against has the service's shape.
func TestFakeAnswersValidate(t *testing.T) {
	f := newFixture(t, nil)
	p := testPKI(t)
	tc := f.srv.ClientTLSConfig()
	tc.Certificates = []tls.Certificate{p.Auto.TLSCertificate()}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	defer hc.CloseIdleConnections()
	var results, faults [][]byte
	f.srv.Enqueue(insitest.Condition{}, insitest.Condition{}, insitest.Condition{}, insitest.Condition{}, insitest.ServiceUnavailable)
	for _, q := range []insi.TraitsQuery{
		{BirthFamilyName: "ECETINSI", GivenName: "PIERRE-ALAIN", Sex: ins.Male, BirthDate: ecetinsi.BirthDate},                    // 00, history
		{BirthFamilyName: "PROVISOIRE", GivenName: "MATRICULE", Sex: ins.Male, BirthDate: ins.Date{Year: 2009, Month: 7, Day: 1}}, // 00, NIA
		{BirthFamilyName: "MARTIN", GivenName: "MARIE", Sex: ins.Female, BirthDate: ins.Date{Year: 1997, Month: 2, Day: 12}},      // 02
		{BirthFamilyName: "INCONNU", GivenName: "MARIE", Sex: ins.Female, BirthDate: ins.Date{Year: 1997, Month: 2, Day: 12}},     // 01
		{BirthFamilyName: "INCONNU", GivenName: "MARIE", Sex: ins.Female, BirthDate: ins.Date{Year: 1997, Month: 2, Day: 12}},     // insi_102
	} {
		req, err := f.client.NewTraitsRequest(q)
		require.NoError(t, err)
		resp, err := hc.Post(f.srv.URL, "application/soap+xml", bytes.NewReader(req.Body))
		require.NoError(t, err)
		doc := etree.NewDocument()
		_, err = doc.ReadFrom(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		if el := doc.FindElement("./Envelope/Body/RESULTAT"); el != nil {
			d := etree.NewDocument()
			d.SetRoot(el.Copy())
			b, err := d.WriteToBytes()
			require.NoError(t, err)
			results = append(results, b)
		}
		if el := doc.FindElement("./Envelope/Body/Fault/Detail/Erreur"); el != nil {
			d := etree.NewDocument()
			d.SetRoot(el.Copy())
			b, err := d.WriteToBytes()
			require.NoError(t, err)
			faults = append(faults, b)
		}
	}
	require.Len(t, results, 4)
	require.Len(t, faults, 1)
	bin := testenv.LookPath(t, "xmllint", "xmllint")
	for schema, docs := range map[string][][]byte{
		"testdata/xsd/insi/ServiceIdentiteCertifiee/INSi_RESULTAT_INS.xsd": results,
		"testdata/xsd/insi/schema_faultSOAP_V01_01.xsd":                    faults,
	} {
		args := append([]string{"--noout", "--nonet", "--schema", schema}, writeFiles(t, docs)...)
		out, err := exec.Command(bin, args...).CombinedOutput()
		require.NoError(t, err, string(out))
	}
}
