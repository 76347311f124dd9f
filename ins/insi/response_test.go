// SPDX-License-Identifier: Apache-2.0

package insi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insi"
	"github.com/ecdaf744/gomss/ins/insitest"
	"github.com/ecdaf744/gomss/trace"
)

const soapStart = `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><S:Body xmlns:S="http://www.w3.org/2003/05/soap-envelope">`
const soapEnd = `</S:Body></soap:Envelope>`

// Answers in the shapes recorded from the qualification platform
// (padoa/tlsi-ins fixtures REP_CR01, TEST_2.04_cas2, TEST_2.05,
// siram_100-desir_500-fake-idam); values re-keyed where needed.
var (
	answerCR01 = soapStart + `<RESULTAT xmlns:ns3="http://www.cnamts.fr/INSiRecVit" xmlns:ns2="http://www.cnamts.fr/INSiRecSans" xmlns="http://www.cnamts.fr/INSiResultat"><CR><CodeCR>01</CodeCR><LibelleCR>Aucune identite trouvee</LibelleCR></CR></RESULTAT>` + soapEnd
	// DateDeb and DateFin before IdIndividu in an INSHISTO, no Prenom.
	answerHistoOrder = soapStart + `<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat"><CR><CodeCR>00</CodeCR><LibelleCR>OK</LibelleCR></CR><INDIVIDU><INSACTIF><IdIndividu><NumIdentifiant>1090763220834</NumIdentifiant><Cle>89</Cle></IdIndividu><OID>1.2.250.1.213.1.4.8</OID></INSACTIF><INSHISTO><DateDeb>2019-03-01</DateDeb><DateFin>2019-02-28</DateFin><IdIndividu><NumIdentifiant>2090763220834</NumIdentifiant><Cle>39</Cle></IdIndividu><OID>1.2.250.1.213.1.4.8</OID></INSHISTO><TIQ><NomNaissance>ECETINSI</NomNaissance><ListePrenom>PIERRE-ALAIN MURIEL FLORIANT</ListePrenom><Sexe>M</Sexe><DateNaissance>2009-07-14</DateNaissance><LieuNaissance>63220</LieuNaissance></TIQ></INDIVIDU></RESULTAT>` + soapEnd
	answerNIA        = soapStart + `
		<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat">
			<CR><CodeCR>00</CodeCR><LibelleCR>OK</LibelleCR></CR>
			<INDIVIDU>
				<INSACTIF><IdIndividu><NumIdentifiant>1090763220888</NumIdentifiant><Cle>35</Cle></IdIndividu><OID>1.2.250.1.213.1.4.9</OID><!-- OID NIA --></INSACTIF>
				<TIQ><NomNaissance>PROVISOIRE</NomNaissance><Prenom>MATRICULE</Prenom><ListePrenom>MATRICULE</ListePrenom><Sexe>M</Sexe><DateNaissance>2009-07-01</DateNaissance><LieuNaissance>63220</LieuNaissance></TIQ>
			</INDIVIDU>
		</RESULTAT>` + soapEnd
	answerFault    = soapStart + `<soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value><soap:Subcode><soap:Value>soap:siram_100</soap:Value></soap:Subcode></soap:Code><soap:Reason><soap:Text xml:lang="fr">L'accès par ce progiciel au service n'est pas autorisé. Contactez l'éditeur du progiciel ou votre responsable informatique.</soap:Text></soap:Reason><soap:Detail><siram:Erreur code="desir_550" messageID="uuid:b3549edd-4ae9-472a-b26f-fd2fb4ef397f" severite="erreur" xmlns:siram="urn:siram">Numéro d'autorisation du logiciel inconnu.</siram:Erreur></soap:Detail></soap:Fault>` + soapEnd
	answerInsi102  = soapStart + `<soap:Fault><soap:Code><soap:Value>soap:Receiver</soap:Value><soap:Subcode><soap:Value>soap:siram_40</soap:Value></soap:Subcode></soap:Code><soap:Reason><soap:Text xml:lang="fr">Service indisponible</soap:Text></soap:Reason><soap:Detail><siram:Erreur code="insi_102" severite="erreur" xmlns:siram="urn:siram">Service temporairement indisponible</siram:Erreur></soap:Detail></soap:Fault>` + soapEnd
	answerDesir560 = soapStart + `<soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang="fr">Vous ne disposez pas des droits suffisants pour accéder à ce service</soap:Text></soap:Reason><soap:Detail><siram:Erreur code="DESIR_560" severite="erreur" xmlns:siram="urn:siram">Niveau d'accès insuffisant</siram:Erreur></soap:Detail></soap:Fault>` + soapEnd
)

func TestParseObservedShapes(t *testing.T) {
	r, err := insi.ParseResponse(strings.NewReader(answerCR01))
	require.ErrorIs(t, err, insi.ErrNotFound)
	assert.Equal(t, "Aucune identite trouvee", r.Label)
	assert.False(t, r.Found())

	r, err = insi.ParseResponse(strings.NewReader(answerHistoOrder))
	require.NoError(t, err)
	assert.Equal(t, "109076322083489", r.INS.Matricule.String())
	require.Len(t, r.History, 1)
	assert.Equal(t, ins.Date{Year: 2019, Month: 3, Day: 1}, r.History[0].From)
	assert.Equal(t, "PIERRE-ALAIN", r.Traits.FirstBirthGivenName)
	assert.Equal(t, []string{
		"INSHISTO 1: IdIndividu after DateFin (schema order: IdIndividu, OID, DateDeb, DateFin)",
		"INSHISTO 1: OID after DateFin (schema order: IdIndividu, OID, DateDeb, DateFin)",
		"TIQ: no Prenom, first given name taken from ListePrenom",
	}, r.Tolerated)

	r, err = insi.ParseResponse(strings.NewReader(answerNIA))
	require.NoError(t, err)
	assert.Equal(t, ins.AuthorityNIA, r.INS.Authority)
	assert.Empty(t, r.Tolerated)

	_, err = insi.ParseResponse(strings.NewReader(answerFault))
	var f *insi.Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, insi.Fault{Code: "Sender", Subcode: "siram_100", ErrorCode: "desir_550", Severity: insi.SeverityError,
		Reason:    "L'accès par ce progiciel au service n'est pas autorisé. Contactez l'éditeur du progiciel ou votre responsable informatique.",
		Detail:    "Numéro d'autorisation du logiciel inconnu.",
		MessageID: "uuid:b3549edd-4ae9-472a-b26f-fd2fb4ef397f"}, *f)
	assert.ErrorIs(t, err, insi.ErrUnknownIDAM)

	_, err = insi.ParseResponse(strings.NewReader(answerInsi102))
	assert.ErrorIs(t, err, insi.ErrRetryLater)
	assert.NotErrorIs(t, err, insi.ErrConfiguration)
	_, err = insi.ParseResponse(strings.NewReader(answerDesir560))
	assert.ErrorIs(t, err, insi.ErrAccessLevel)
	assert.ErrorIs(t, err, insi.ErrConfiguration)
}

// Strict where a value would be wrong.
func TestParseRefusesWrongValues(t *testing.T) {
	for name, body := range map[string]string{
		"bad key":        strings.Replace(answerNIA, "<Cle>35</Cle>", "<Cle>36</Cle>", 1),
		"INS-C OID":      strings.Replace(answerNIA, "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.2", 1),
		"00 no INDIVIDU": soapStart + `<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat"><CR><CodeCR>00</CodeCR><LibelleCR>OK</LibelleCR></CR></RESULTAT>` + soapEnd,
		"no TIQ name":    strings.Replace(answerNIA, "<NomNaissance>PROVISOIRE</NomNaissance>", "", 1),
		"SOAP 1.1":       strings.ReplaceAll(answerNIA, "http://www.w3.org/2003/05/soap-envelope", "http://schemas.xmlsoap.org/soap/envelope/"),
		"truncated":      answerNIA[:len(answerNIA)/2],
		"html":           "<html><body>502 Bad Gateway</body></html>",
		"empty":          "",
		"too long":       soapStart + strings.Repeat(" ", insi.MaxAnswerSize) + soapEnd,
	} {
		r, err := insi.ParseResponse(strings.NewReader(body))
		assert.ErrorIs(t, err, insi.ErrMalformedAnswer, name)
		assert.Nil(t, r, name)
	}
	r, err := insi.ParseResponse(strings.NewReader(strings.Replace(answerCR01, ">01<", ">07<", 1)))
	assert.ErrorIs(t, err, insi.ErrUnexpectedCR)
	assert.Equal(t, "07", r.CR)
	// A date lunaire is kept as received.
	r, err = insi.ParseResponse(strings.NewReader(strings.Replace(answerNIA, "2009-07-01", "2009-00-00", 1)))
	require.NoError(t, err)
	assert.True(t, r.Traits.BirthDate.IsZero())
	assert.Equal(t, "2009-00-00", r.BirthDateAsReceived)
}

// The parser never panics and its errors stay in the documented classes.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{answerCR01, answerHistoOrder, answerNIA, answerFault, answerInsi102, answerDesir560} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := insi.ParseResponse(bytes.NewReader(b))
		var fault *insi.Fault
		switch {
		case err == nil:
			require.True(t, r.Found())
			require.NoError(t, r.INS.Validate())
		case errors.As(err, &fault):
			require.Nil(t, r)
		case errors.Is(err, insi.ErrNotFound), errors.Is(err, insi.ErrSeveralIdentities), errors.Is(err, insi.ErrUnexpectedCR):
			require.NotNil(t, r)
			require.False(t, r.Found())
		default:
			require.ErrorIs(t, err, insi.ErrMalformedAnswer)
		}
	})
}

func TestCompareEveryTrait(t *testing.T) {
	r, err := insi.ParseResponse(strings.NewReader(answerHistoOrder))
	require.NoError(t, err)
	same, err := r.Identity()
	require.NoError(t, err)
	assert.Empty(t, insi.Compare(r, same))

	local := same
	local.INS.Matricule = r.History[0].INS.Matricule
	local.INS.Authority = ins.AuthorityNIA
	local.Traits = ins.Traits{BirthFamilyName: "Écetinsi", FirstBirthGivenName: "Pierre - Alain", BirthGivenNames: "PIERRE-ALAIN", Sex: ins.Female,
		BirthDate: ins.Date{Year: 2009, Month: 7, Day: 15}, BirthPlace: "63113"}
	d := insi.Compare(r, local)
	var traits []insi.Trait
	for _, x := range d {
		traits = append(traits, x.Trait)
	}
	assert.Equal(t, []insi.Trait{insi.TraitMatricule, insi.TraitAuthority, insi.TraitBirthFamilyName, insi.TraitFirstGivenName,
		insi.TraitGivenNames, insi.TraitSex, insi.TraitBirthDate, insi.TraitBirthPlace}, traits)
	assert.True(t, d[0].Historic, "the local matricule is in INSHISTO")
	assert.True(t, d[2].SpellingOnly)
	assert.True(t, d[3].SpellingOnly)
	assert.False(t, d[4].SpellingOnly)
	assert.Equal(t, "2009-07-15", d[6].Local)
	assert.Equal(t, "2009-07-14", d[6].INSi)
	assert.NotContains(t, d[2].String(), "ECETINSI", "String names the trait, not the value")
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"Éloïse":             "ELOISE",
		"d’Artagnan":         "D'ARTAGNAN",
		"Marie - Hélène":     "MARIE-HELENE",
		"  Œuvray   Lætitia": "OEUVRAY LAETITIA",
		"Groß":               "GROSS",
		"N' GUYEN":           "N'GUYEN",
	} {
		assert.Equal(t, want, insi.NormalizeName(in), in)
	}
}

// Qualification is a separate, explicit step that needs a person's check
// of a high-trust document.
func TestQualify(t *testing.T) {
	r, err := insi.ParseResponse(strings.NewReader(answerNIA))
	require.NoError(t, err)
	rec, err := r.Identity()
	require.NoError(t, err)
	check := insi.DocumentCheck{Document: insi.DocPassport, CheckedBy: "user-42", CheckedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Consistent: true}
	q, err := insi.Qualify(rec, check)
	require.NoError(t, err)
	assert.Equal(t, ins.Qualified, q.Status)
	got, err := q.QualifiedINS()
	require.NoError(t, err)
	assert.Equal(t, rec.INS, got)
	assert.Equal(t, ins.Recovered, rec.Status, "the RECUP identity is not modified")

	for name, tc := range map[string]struct {
		id    ins.Identity
		check insi.DocumentCheck
		want  error
	}{
		"provisional":   {ins.Identity{Status: ins.Provisional, INS: rec.INS, Traits: rec.Traits}, check, insi.ErrNotRecovered},
		"already QUAL":  {q, check, insi.ErrNotRecovered},
		"no document":   {rec, insi.DocumentCheck{CheckedBy: "u", CheckedAt: check.CheckedAt, Consistent: true}, insi.ErrDocumentCheck},
		"carte vitale":  {rec, insi.DocumentCheck{Document: "CV", CheckedBy: "u", CheckedAt: check.CheckedAt, Consistent: true}, insi.ErrDocumentCheck},
		"nobody":        {rec, insi.DocumentCheck{Document: insi.DocNationalIDCard, CheckedAt: check.CheckedAt, Consistent: true}, insi.ErrDocumentCheck},
		"when":          {rec, insi.DocumentCheck{Document: insi.DocNationalIDCard, CheckedBy: "u", Consistent: true}, insi.ErrDocumentCheck},
		"inconsistent":  {rec, insi.DocumentCheck{Document: insi.DocNationalIDCard, CheckedBy: "u", CheckedAt: check.CheckedAt}, insi.ErrDocumentCheck},
		"missing trait": {ins.Identity{Status: ins.Recovered, INS: rec.INS, Traits: ins.Traits{BirthFamilyName: "X"}}, check, ins.ErrTraits},
		"no INS":        {ins.Identity{Status: ins.Recovered, Traits: rec.Traits}, check, ins.ErrNoINS},
	} {
		got, err := insi.Qualify(tc.id, tc.check)
		assert.ErrorIs(t, err, tc.want, name)
		assert.Equal(t, ins.Identity{}, got, name)
	}
}

// Verify: search with the local traits, compare with the local identity.
func TestVerify(t *testing.T) {
	f := newFixture(t, nil)
	local := ins.Identity{Status: ins.Qualified, INS: ins.INS{Matricule: matricule(t, "109076322083489"), Authority: ins.AuthorityNIR}, Traits: ecetinsi}
	v, err := f.client.Verify(ctx(t), local)
	require.NoError(t, err)
	assert.True(t, v.Verified())

	local.INS.Matricule = matricule(t, "209076322083439") // an old NIR
	v, err = f.client.Verify(ctx(t), local)
	require.NoError(t, err)
	assert.False(t, v.Verified())
	require.Len(t, v.Differences, 1)
	assert.True(t, v.Differences[0].Historic)

	local.Traits.BirthFamilyName = "INCONNU"
	v, err = f.client.Verify(ctx(t), local)
	require.ErrorIs(t, err, insi.ErrNotFound)
	assert.False(t, v.Verified())

	_, err = f.client.Verify(ctx(t), ins.Identity{Traits: ecetinsi})
	assert.ErrorIs(t, err, ins.ErrNoINS)
}

// Each call can be traced through trace (who, when, operation, request id,
// CR or fault) and no trait of the patient reaches the trace.
func TestTraceHasNoTraits(t *testing.T) {
	var events []trace.Event
	rec := trace.RecorderFunc(func(_ context.Context, e trace.Event) error {
		require.NoError(t, e.Normalize())
		events = append(events, e)
		return nil
	})
	actor := trace.Actor{ID: "10B0152872", IDType: "IDNST", Auth: trace.AuthCertificate}
	f := newFixture(t, func(c *insi.Config) { c.Observer = insi.TraceObserver(rec, actor, "gomss-test/1.0") })
	local := ecetinsi
	local.FirstBirthGivenName, local.BirthGivenNames = "MURIEL", "MURIEL PIERRE-ALAIN FLORIANT"
	_, err := f.client.Search(ctx(t), local)
	require.NoError(t, err)
	f.srv.Enqueue(insitest.UnknownIDAM)
	_, err = f.client.SearchWithVitale(ctx(t), insi.VitaleQuery{Individual: matricule(t, "209076322083439")})
	require.Error(t, err)

	require.Len(t, events, 3)
	assert.Equal(t, insi.TraceSearchTraits, events[0].Action)
	assert.Equal(t, "01", events[0].Response.Code)
	assert.True(t, events[1].Response.OK)
	assert.Equal(t, events[0].Correlation, events[1].Correlation)
	assert.Equal(t, insi.TraceSearchVitale, events[2].Action)
	assert.Equal(t, "siram_100/desir_550", events[2].Response.Code)
	reqs := f.srv.Requests()
	for i, e := range events {
		assert.Equal(t, reqs[i].MessageID, e.MessageID)
		assert.Equal(t, actor, e.Actor)
	}
	js, err := json.Marshal(events)
	require.NoError(t, err)
	for _, v := range []string{"ECETINSI", "MURIEL", "PIERRE", "FLORIANT", "2009", "63220", "1090763220834", "2090763220834"} {
		assert.NotContains(t, string(js), v)
	}
}
