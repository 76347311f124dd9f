// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"bytes"
	"io"
	"mime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/htmlindex"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

var created = time.Date(2026, 11, 24, 10, 30, 0, 0, testdocs.Paris)

var pdf = testdocs.PDF("Compte rendu", 30_000)

func xdmOptions() xdm.Options {
	return xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}, Organization: "Centre de santé des Lilas"}
}

func reportMessage() *mssante.Message {
	return &mssante.Message{
		From: mssante.Sender{Address: "marcel.camparini@lilas.mssante.fr", Kind: mssante.Personal,
			Title: "Dr", GivenName: "Marcel", FamilyName: "Camparini", Entity: "Cardiologie"},
		To:        []string{"secretariat@chu-exemple.mssante.fr"},
		MessageID: "<20261124103000.1@lilas.mssante.fr>",
		Date:      created,
		Text:      "Bonjour,\nveuillez trouver ci-joint le compte rendu de consultation.\nBien confraternellement.",
		Documents: []mssante.Document{{
			Header: testdocs.Header(testdocs.Patient("test", true), "11488-4", created),
			PDF:    mssante.BytesOpener(pdf),
		}},
		XDM:         xdmOptions(),
		Product:     "DEV935997",
		ReadReceipt: true,
	}
}

func write(t testing.TB, m *mssante.Message) []byte {
	t.Helper()
	var b bytes.Buffer
	_, err := m.WriteTo(&b)
	require.NoError(t, err, "WriteTo")
	return b.Bytes()
}

func parse(t testing.TB, raw []byte) *mssante.Received {
	t.Helper()
	r, err := mssante.Parse(bytes.NewReader(raw), nil)
	require.NoError(t, err, "Parse")
	return r
}

func TestBuildParseRoundTrip(t *testing.T) {
	m := reportMessage()
	raw := write(t, m)
	for _, want := range []string{
		"\r\nX-MSS-NIL: DEV935997\r\n", "\r\nX-MSS-CODECDA: 11488-4\r\n", "\r\nX-MSS-INS: O\r\n",
		"From: Dr_Marcel_CAMPARINI_Cardiologie <marcel.camparini@lilas.mssante.fr>\r\n",
		"Subject: XDM/1.0/DDM+Compte rendu de consultation PAT-TROIS DOMINIQUE\r\n 28/03/1979\r\n", // folded at 78
		"Disposition-Notification-To: <marcel.camparini@lilas.mssante.fr>\r\n",
		`filename=20261124_CR_ou_fiche_de_consultation_ou_de_visite_PAT-TROIS_DOMINIQUE.pdf`,
		`filename=IHE_XDM.ZIP`,
	} {
		assert.Contains(t, string(raw), want, "message lacks %q", want)
	}
	assert.NotContains(t, string(raw), "X-MSS-MES", "X-MSS-MES written without EndConversation")
	r := parse(t, raw)
	require.NotNil(t, r.From, "From")
	assert.Equal(t, m.From.Address, r.From.Address, "From address")
	assert.Equal(t, "Dr_Marcel_CAMPARINI_Cardiologie", r.From.Name, "From label")
	assert.Equal(t, m.MessageID, r.MessageID, "Message-ID")
	assert.Equal(t, []mssante.Address{{Address: m.To[0]}}, r.To, "To")
	assert.True(t, r.Date.Equal(created), "Date %v, want %v", r.Date, created)
	assert.Equal(t, m.Text, r.Text, "text")
	assert.Equal(t, "XDM/1.0/DDM+Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979", r.Subject, "subject")
	assert.True(t, r.IsDocumentMessage(), "a document message")
	assert.Equal(t, "Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979", r.DisplaySubject(), "display subject")
	assert.Equal(t, "DEV935997", r.MSS.NIL, "X-MSS-NIL")
	assert.Equal(t, "O", r.MSS.INS, "X-MSS-INS")
	assert.Equal(t, []string{"11488-4"}, r.MSS.CodeCDA, "X-MSS-CODECDA")
	require.NotNil(t, r.XDM, "no XDM: %v", r.XDMErr)
	require.NoError(t, r.XDM.Verify())
	if assert.NotNil(t, r.PatientID, "patient id") {
		assert.Equal(t, "279035121518989", r.PatientID.ID, "patient id")
		assert.Equal(t, ins.TypeNH, r.PatientID.TypeCode, "patient id type")
	}
	var pdfPart *mssante.Part
	for _, a := range r.Attachments {
		if a.ContentType == "application/pdf" {
			pdfPart = a
		}
	}
	require.NotNil(t, pdfPart, "no PDF rendition")
	require.True(t, bytes.Equal(pdfPart.Data, pdf), "the PDF rendition differs from the PDF given")
	// The PDF in the CDA is the same PDF (ECO.2.1.5).
	require.NotEmpty(t, r.XDM.Documents)
	rc, err := r.XDM.Documents[0].Open()
	require.NoError(t, err)
	cr := cda.NewReader(rc, nil)
	var body bytes.Buffer
	_, err = cr.Body(&body)
	if assert.NoError(t, err, "CDA body") {
		assert.True(t, bytes.Equal(body.Bytes(), pdf), "CDA body differs from the PDF rendition")
	}
	assert.NoError(t, rc.Close(), "the CDA does not match METADATA.XML")
	assert.Equal(t, []mssante.Address{{Address: m.From.Address}}, r.DispositionNotificationTo, "Disposition-Notification-To")
	// Writing again gives the same headers (Message-ID and Date kept).
	raw2 := write(t, m)
	h1, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	h2, _, _ := bytes.Cut(raw2, []byte("\r\n\r\n"))
	assert.Equal(t, string(stripBoundary(h1)), string(stripBoundary(h2)), "headers differ between two writes")
}

func stripBoundary(h []byte) []byte {
	i := bytes.Index(h, []byte("boundary="))
	if i < 0 {
		return h
	}
	return h[:i]
}

func TestEnvelope(t *testing.T) {
	m := reportMessage()
	m.Bcc = []string{"archives@lilas.mssante.fr"}
	m.DSN = mssante.DSN{Notify: []string{"SUCCESS", "FAILURE"}, Return: "HDRS"}
	env := m.Envelope()
	assert.Equal(t, m.From.Address, env.From, "envelope From")
	assert.Len(t, env.Recipients, 2, "envelope recipients: To and Bcc")
	assert.Equal(t, "20261124103000.1@lilas.mssante.fr", env.DSN.EnvelopeID, "ENVID")
	raw := write(t, m)
	assert.NotContains(t, string(raw), "archives@", "Bcc written in the message")
}

func TestMessageWithoutDocuments(t *testing.T) {
	m := &mssante.Message{
		From:    mssante.Sender{Address: "accueil@lilas.mssante.fr", Kind: mssante.Organizational, Entity: "Accueil du centre"},
		To:      []string{"dr.martin@cabinet.mssante.fr"},
		Subject: "Rendez-vous de contrôle",
		Text:    "Le patient est attendu jeudi à 9 h.",
		HTML:    "<p>Le patient est attendu <b>jeudi</b> à 9 h.</p>",
		Product: "DEV935997",
	}
	raw := write(t, m)
	for _, h := range []string{"X-MSS-CODECDA", "X-MSS-INS", "Disposition-Notification-To"} {
		assert.NotContains(t, string(raw), h, "%s written on a message without documents", h)
	}
	assert.Contains(t, string(raw), "From: Accueil du centre <accueil@lilas.mssante.fr>", "from label")
	assert.Contains(t, string(raw), "multipart/alternative", "alternative body")
	r := parse(t, raw)
	assert.Equal(t, m.Subject, r.Subject, "round trip: subject")
	assert.Equal(t, m.Text, r.Text, "round trip: text")
	assert.Equal(t, m.HTML, r.HTML, "round trip: HTML")
	assert.False(t, r.IsDocumentMessage(), "not a document message")
}

func TestMonEspaceSante(t *testing.T) {
	p := testdocs.Patient("test", true)
	addr, err := p.MonEspaceSanteAddress()
	require.NoError(t, err)
	m := reportMessage()
	m.To = []string{addr}
	m.EndConversation = true
	m.ReplyTo = "secretariat@lilas.mssante.fr"
	raw := write(t, m)
	assert.Contains(t, string(raw), "\r\nX-MSS-MES: FIN\r\n")
	assert.Contains(t, string(raw), "Reply-To: <secretariat@lilas.mssante.fr>")
	// Another patient's address, an unqualified identity, a masked
	// document: refused.
	other, err := testdocs.Patient("nir", true).MonEspaceSanteAddress()
	require.NoError(t, err)
	cases := map[string]func(m *mssante.Message){
		"other patient": func(m *mssante.Message) { m.To = []string{other} },
		"not qualified": func(m *mssante.Message) { m.Documents[0].Header.Patient.Status = ins.Validated },
		"invisible": func(m *mssante.Message) {
			m.Documents[0].Options = &xdm.DocumentOptions{Masking: []xdm.Code{{Code: "INVISIBLE_PATIENT", Scheme: "1.2.250.1.213.1.1.4.13"}}}
		},
		"bad key": func(m *mssante.Message) { m.To = []string{"279035121518988@patient.mssante.fr"} },
		"FIN to a professional": func(m *mssante.Message) {
			m.To = []string{"dr.martin@cabinet.mssante.fr"}
		},
	}
	for name, mutate := range cases {
		m := reportMessage()
		m.To = []string{addr}
		m.EndConversation = true
		mutate(m)
		_, err := m.WriteTo(io.Discard)
		assert.ErrorIs(t, err, mssante.ErrInvalid, name)
	}
}

func TestSizeLimits(t *testing.T) {
	m := reportMessage()
	m.Limits.MaxSize = 20_000
	var b bytes.Buffer
	_, err := m.WriteTo(&b)
	var se *mssante.SizeError
	if assert.ErrorAs(t, err, &se, "operator limit") {
		assert.Equal(t, int64(20_000), se.Limit, "operator limit")
		assert.False(t, se.Patient, "the operator's limit, not the patient's")
	}
	assert.LessOrEqual(t, b.Len(), 20_000, "bytes written past the limit")
	m = reportMessage()
	addr, err := m.Documents[0].Header.Patient.MonEspaceSanteAddress()
	require.NoError(t, err)
	m.To = []string{addr}
	m.Limits.PatientMaxSize = 40_000 // a smaller limit than 25 Mo, for the test
	_, err = m.WriteTo(io.Discard)
	if assert.ErrorAs(t, err, &se, "patient limit") {
		assert.True(t, se.Patient, "the patient limit")
	}
	m.Limits.PatientMaxSize = 0 // 25 Mo applies
	n, err := m.WriteTo(io.Discard)
	require.NoError(t, err, "25 Mo limit")
	assert.GreaterOrEqual(t, n, int64(40_000), "25 Mo limit")
}

func TestValidateRules(t *testing.T) {
	cases := map[string]struct {
		mutate func(m *mssante.Message)
		rule   string
	}{
		"no product":           {func(m *mssante.Message) { m.Product = "" }, "ECO.2.4.3"},
		"bad recipient":        {func(m *mssante.Message) { m.To = []string{"pas une adresse"} }, "RFC5322"},
		"no recipient":         {func(m *mssante.Message) { m.To = nil }, "RFC5322"},
		"personal label":       {func(m *mssante.Message) { m.From.FamilyName = "" }, "ECO.2.2.7"},
		"org label":            {func(m *mssante.Message) { m.From.Kind = mssante.Applicative; m.From.Entity = "" }, "ECO.2.2.7"},
		"FIN to a pro":         {func(m *mssante.Message) { m.EndConversation = true }, "ECO.2.2.8"},
		"html only":            {func(m *mssante.Message) { m.Text = ""; m.HTML = "<p>x</p>" }, "ECO.2.2.4"},
		"two patients":         {func(m *mssante.Message) { m.Documents = append(m.Documents, doc("nir")) }, "ECO.2.1.1"},
		"invalid CDA":          {func(m *mssante.Message) { m.Documents[0].Header.Title = "" }, "ECO.2.1.1"},
		"no PDF":               {func(m *mssante.Message) { m.Documents[0].PDF = nil }, "ECO.2.1.1"},
		"no XDM source":        {func(m *mssante.Message) { m.XDM.SourceID = "" }, "ECO.2.1.1"},
		"replacement unlinked": {func(m *mssante.Message) { id := cda.II{Root: "1.2.3"}; m.Documents[0].Header.Replaces = &id }, "ECO.2.2.2"},
		"zip by hand": {func(m *mssante.Message) {
			m.Attachments = []mssante.Attachment{{Name: "IHE_XDM.zip", Open: mssante.BytesOpener(nil)}}
		}, "ECO.2.1.1"},
	}
	for name, c := range cases {
		m := reportMessage()
		c.mutate(m)
		err := m.Validate()
		var ve *mssante.ValidationError
		if !assert.ErrorAs(t, err, &ve, name) {
			continue
		}
		assert.True(t, slices.ContainsFunc(ve.Problems, func(p mssante.Problem) bool { return p.Rule == c.rule }),
			"%s: no %s problem in %v", name, c.rule, err)
	}
}

func doc(kind string) mssante.Document {
	return mssante.Document{Header: testdocs.Header(testdocs.Patient(kind, true), "11488-4", created), PDF: mssante.BytesOpener(pdf)}
}

func TestSubjectAndFileName(t *testing.T) {
	tr := testdocs.Patient("demo", false).Traits
	assert.Equal(t, "XDM/1.0/DDM+CR d'imagerie PAT-DEMO ÉLODIE-ANNE 24/01/1996", mssante.DocumentSubject("CR d'imagerie", &tr))
	name := mssante.PDFFileName(ins.Date{Year: 2022, Month: 5, Day: 31}, "CR d'imagerie médicale", &ins.Traits{BirthFamilyName: "Corse", FirstBirthGivenName: "FIGATELLIX"}, "")
	assert.Equal(t, "20220531_CR_d_imagerie_medicale_CORSE_FIGATELLIX.pdf", name, "the ANS example")
	assert.Equal(t, "20260102_Lettre_PAT-DEMO_ELODIE-ANNE_D_42_7.pdf", mssante.PDFFileName(ins.Date{Year: 2026, Month: 1, Day: 2}, "Lettre", &tr, "D 42/7"))
	for s, want := range map[string]string{
		"XDM/1.0/DDM+CR X": "CR X",
		"[KO Intégration système !][902] XDM/1.0/DDM+CR X": "[KO Intégration système !][902] CR X",
		"Bonjour": "Bonjour",
	} {
		assert.Equal(t, want, mssante.DisplaySubject(s), "DisplaySubject(%q)", s)
	}
	assert.True(t, mssante.IsDocumentSubject("[KO Intégration système !][902] XDM/1.0/DDM+CR"), "IsDocumentSubject of a KO subject")
	assert.False(t, mssante.IsDocumentSubject("Re: XDM"), "IsDocumentSubject(Re: XDM)")
}

func TestSenderLabel(t *testing.T) {
	for s, want := range map[mssante.Sender]string{
		{Kind: mssante.Personal, GivenName: "Jean Paul", FamilyName: "Du Pont"}:                     "Jean-Paul_DU-PONT",
		{Kind: mssante.Personal, Title: "Pr", GivenName: "Anne", FamilyName: "Lévy", Entity: "SAU"}: "Pr_Anne_LÉVY_SAU",
		{Kind: mssante.Applicative, Entity: "Imagerie CHU"}:                                         "Imagerie CHU",
	} {
		assert.Equal(t, want, s.Label(), "%+v", s)
	}
}

// A message from a client that writes ISO-8859-1: subject, display name
// and text are converted to UTF-8.
func TestParseLatin1(t *testing.T) {
	raw := "From: =?iso-8859-1?q?Secr=E9tariat_Cardiologie?= <secretariat@chu-exemple.mssante.fr>\r\n" +
		"To: dr.martin@cabinet.mssante.fr\r\n" +
		"Subject: =?ISO-8859-1?Q?R=E9sultats_d=27=E9chographie?=\r\n" +
		"Message-ID: <abc@chu-exemple.mssante.fr>\r\n" +
		"Date: Tue, 24 Nov 2026 10:30:00 +0100\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=iso-8859-1\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"Ch=E8re consoeur, voici les r=E9sultats.\r\n"
	r := parse(t, []byte(raw))
	assert.Equal(t, "Résultats d'échographie", r.Subject, "problems %v", r.Problems)
	require.NotNil(t, r.From)
	assert.Equal(t, "Secrétariat Cardiologie", r.From.Name)
	assert.Equal(t, "Chère consoeur, voici les résultats.\n", r.Text)
	assert.Equal(t, "iso-8859-1", r.TextCharset)
	assert.False(t, r.IsDocumentMessage(), "not a document message")
	assert.False(t, r.FromPatient(), "not from a patient")
	// A program that installs go-message's global charset reader (as
	// importing go-message/charset does): the text is decoded once, not
	// twice (found by a review: "ChÃ¨re").
	message.CharsetReader = func(cs string, in io.Reader) (io.Reader, error) {
		enc, err := htmlindex.Get(cs)
		if err != nil {
			return nil, err
		}
		return enc.NewDecoder().Reader(in), nil
	}
	defer func() { message.CharsetReader = nil }()
	r = parse(t, []byte(raw))
	assert.Equal(t, "Chère consoeur, voici les résultats.\n", r.Text, "with a global charset reader (problems %v)", r.Problems)
}

// Sender labels with characters that RFC 2047 forbids inside an encoded
// word standing for a display name (comma, colon, parentheses…) and
// non-ASCII letters: the From header still parses, with the label whole
// (found by a review: "Cardiologie, Hôpital Nord" made an unparseable From).
func TestSenderLabelWithSpecials(t *testing.T) {
	for _, entity := range []string{"Cardiologie, Hôpital Nord", "Pédiatrie: néonatologie", "Médecine interne (pôle 2)",
		"Centre « Les Lilas »", `Service "A"`, "Urgences; SAMU", "Plain, ASCII (ok)", "Sant\u00e9 @ domicile"} {
		m := reportMessage()
		m.From = mssante.Sender{Address: "secretariat@lilas.mssante.fr", Kind: mssante.Organizational, Entity: entity}
		r := parse(t, write(t, m))
		if assert.NotNil(t, r.From, "entity %q", entity) {
			assert.Equal(t, "secretariat@lilas.mssante.fr", r.From.Address, "entity %q", entity)
			assert.Contains(t, r.From.Name, entity, "the label whole")
		}
	}
}

// Message ids are written as given (angle brackets added when both are
// missing): one that is not then a single <left@right>
// (CR/LF above all: header injection) is refused before anything is
// written; an attachment's Content-Type keeps its parameters, and one that
// does not parse is refused (found by a review: "text/plain;
// charset=utf-8" made an empty Content-Type).
func TestMessageIDsAndAttachmentTypes(t *testing.T) {
	for _, set := range []func(m *mssante.Message){
		func(m *mssante.Message) { m.InReplyTo = "<orig@x.mssante.fr>\r\nBcc: spy@evil.example" },
		func(m *mssante.Message) { m.References = []string{"<a@b>", "<c@d>\nX-Injected: yes"} },
		func(m *mssante.Message) { m.MessageID = "<id@x>\r\nX-Injected: yes" },
		func(m *mssante.Message) { m.MessageID = "<one-bracket@x" }, // without both brackets, see TestMessageIDWithOrWithoutBrackets
		func(m *mssante.Message) { m.InReplyTo = "<two@x> <ids@y>" },
	} {
		m := reportMessage()
		set(m)
		var buf bytes.Buffer
		_, err := m.WriteTo(&buf)
		assert.ErrorIs(t, err, mssante.ErrInvalid, "In-Reply-To %q References %q Message-ID %q", m.InReplyTo, m.References, m.MessageID)
		assert.Zero(t, buf.Len(), "bytes written for In-Reply-To %q References %q Message-ID %q", m.InReplyTo, m.References, m.MessageID)
	}
	m := reportMessage()
	m.InReplyTo, m.References = "<orig@x.mssante.fr>", []string{"<first@x.mssante.fr>"}
	m.Attachments = []mssante.Attachment{{Name: "note.txt", ContentType: "text/plain; charset=utf-8", Open: mssante.BytesOpener([]byte("Très bien."))}}
	raw := write(t, m)
	assert.Contains(t, string(raw), "Content-Type: text/plain; charset=utf-8; name=note.txt", "attachment Content-Type lost its parameters or name")
	r := parse(t, raw)
	if a := r.Attachment("note.txt"); assert.NotNil(t, a, "attachment read back") {
		assert.Equal(t, "Très bien.", string(a.Data), "attachment read back")
	}
	m.Attachments[0].ContentType = "text/plain; charset"
	_, err := m.WriteTo(io.Discard)
	assert.ErrorIs(t, err, mssante.ErrInvalid, "a Content-Type that does not parse")
	assert.ErrorIs(t, err, mime.ErrInvalidMediaParameter, "the mime error is kept")
}

// Two reports of the same type, the same day, about the same patient: the
// PDF renditions get distinct names (-2), so that a receiver saving
// attachments by name keeps both; an attachment may not reuse a name
// (found by a review).
func TestSameDayReportsDistinctFileNames(t *testing.T) {
	m := reportMessage()
	second := testdocs.PDF("second compte rendu", 3000)
	m.Documents = append(m.Documents, mssante.Document{
		Header: testdocs.Header(testdocs.Patient("test", true), "11488-4", created),
		PDF:    mssante.BytesOpener(second),
	})
	r := parse(t, write(t, m))
	var names []string
	var datas [][]byte
	for _, a := range r.Attachments {
		if strings.HasSuffix(a.Name, ".pdf") {
			names = append(names, a.Name)
			datas = append(datas, a.Data)
		}
	}
	require.Len(t, names, 2, "PDF names %q", names)
	require.NotEqual(t, names[0], names[1], "PDF names")
	require.True(t, strings.HasSuffix(names[1], "-2.pdf"), "PDF names %q", names)
	assert.True(t, bytes.Equal(datas[0], pdf), "the first PDF differs from the one given")
	assert.True(t, bytes.Equal(datas[1], second), "the second PDF differs from the one given")
	m.Attachments = []mssante.Attachment{{Name: strings.ToUpper(names[1]), ContentType: "application/pdf", Open: mssante.BytesOpener(second)}}
	_, err := m.WriteTo(io.Discard)
	assert.ErrorIs(t, err, mssante.ErrInvalid, "an attachment reusing a PDF's name")
}
