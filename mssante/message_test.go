package mssante_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
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
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	return b.Bytes()
}

func parse(t testing.TB, raw []byte) *mssante.Received {
	t.Helper()
	r, err := mssante.Parse(bytes.NewReader(raw), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
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
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("message lacks %q", want)
		}
	}
	if bytes.Contains(raw, []byte("X-MSS-MES")) {
		t.Error("X-MSS-MES written without EndConversation")
	}
	r := parse(t, raw)
	if r.From.Address != m.From.Address || r.From.Name != "Dr_Marcel_CAMPARINI_Cardiologie" || r.MessageID != m.MessageID ||
		len(r.To) != 1 || r.To[0].Address != m.To[0] || !r.Date.Equal(created) {
		t.Errorf("headers: %+v %q %+v %v", r.From, r.MessageID, r.To, r.Date)
	}
	if r.Text != m.Text {
		t.Errorf("text %q", r.Text)
	}
	if r.Subject != "XDM/1.0/DDM+Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979" {
		t.Errorf("subject %q", r.Subject)
	}
	if !r.IsDocumentMessage() || r.DisplaySubject() != "Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979" {
		t.Errorf("display subject %q", r.DisplaySubject())
	}
	if r.MSS.NIL != "DEV935997" || r.MSS.INS != "O" || len(r.MSS.CodeCDA) != 1 || r.MSS.CodeCDA[0] != "11488-4" {
		t.Errorf("MSS headers %+v", r.MSS)
	}
	if r.XDM == nil {
		t.Fatalf("no XDM: %v", r.XDMErr)
	}
	if err := r.XDM.Verify(); err != nil {
		t.Fatal(err)
	}
	if r.PatientID == nil || r.PatientID.ID != "279035121518989" || r.PatientID.TypeCode != ins.TypeNH {
		t.Errorf("patient id %+v", r.PatientID)
	}
	var pdfPart *mssante.Part
	for _, a := range r.Attachments {
		if a.ContentType == "application/pdf" {
			pdfPart = a
		}
	}
	if pdfPart == nil || !bytes.Equal(pdfPart.Data, pdf) {
		t.Fatal("the PDF rendition differs from the PDF given")
	}
	// The PDF in the CDA is the same PDF (ECO.2.1.5).
	rc, err := r.XDM.Documents[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	cr := cda.NewReader(rc, nil)
	var body bytes.Buffer
	if _, err := cr.Body(&body); err != nil || !bytes.Equal(body.Bytes(), pdf) {
		t.Errorf("CDA body differs from the PDF rendition (%v)", err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("the CDA does not match METADATA.XML: %v", err)
	}
	if len(r.DispositionNotificationTo) != 1 || r.DispositionNotificationTo[0].Address != m.From.Address {
		t.Errorf("Disposition-Notification-To %+v", r.DispositionNotificationTo)
	}
	// Writing again gives the same headers (Message-ID and Date kept).
	raw2 := write(t, m)
	h1, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	h2, _, _ := bytes.Cut(raw2, []byte("\r\n\r\n"))
	if !bytes.Equal(stripBoundary(h1), stripBoundary(h2)) {
		t.Errorf("headers differ between two writes:\n%s\n---\n%s", h1, h2)
	}
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
	if env.From != m.From.Address || len(env.Recipients) != 2 || env.DSN.EnvelopeID != "20261124103000.1@lilas.mssante.fr" {
		t.Errorf("envelope %+v", env)
	}
	raw := write(t, m)
	if bytes.Contains(raw, []byte("archives@")) {
		t.Error("Bcc written in the message")
	}
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
		if bytes.Contains(raw, []byte(h)) {
			t.Errorf("%s written on a message without documents", h)
		}
	}
	if !bytes.Contains(raw, []byte("From: Accueil du centre <accueil@lilas.mssante.fr>")) ||
		!bytes.Contains(raw, []byte("multipart/alternative")) {
		t.Errorf("from label or alternative body missing:\n%s", raw)
	}
	r := parse(t, raw)
	if r.Subject != m.Subject || r.Text != m.Text || r.HTML != m.HTML || r.IsDocumentMessage() {
		t.Errorf("round trip: %q %q %q", r.Subject, r.Text, r.HTML)
	}
}

func TestMonEspaceSante(t *testing.T) {
	p := testdocs.Patient("test", true)
	addr, err := p.MonEspaceSanteAddress()
	if err != nil {
		t.Fatal(err)
	}
	m := reportMessage()
	m.To = []string{addr}
	m.EndConversation = true
	m.ReplyTo = "secretariat@lilas.mssante.fr"
	raw := write(t, m)
	if !bytes.Contains(raw, []byte("\r\nX-MSS-MES: FIN\r\n")) || !bytes.Contains(raw, []byte("Reply-To: <secretariat@lilas.mssante.fr>")) {
		t.Error("X-MSS-MES: FIN or Reply-To missing")
	}
	// Another patient's address, an unqualified identity, a masked
	// document: refused.
	other, _ := testdocs.Patient("nir", true).MonEspaceSanteAddress()
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
		if _, err := m.WriteTo(io.Discard); !errors.Is(err, mssante.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

func TestSizeLimits(t *testing.T) {
	m := reportMessage()
	m.Limits.MaxSize = 20_000
	var b bytes.Buffer
	_, err := m.WriteTo(&b)
	var se *mssante.SizeError
	if !errors.As(err, &se) || se.Limit != 20_000 || se.Patient || b.Len() > 20_000 {
		t.Errorf("operator limit: %v, %d bytes written", err, b.Len())
	}
	m = reportMessage()
	addr, _ := m.Documents[0].Header.Patient.MonEspaceSanteAddress()
	m.To = []string{addr}
	m.Limits.PatientMaxSize = 40_000 // a smaller limit than 25 Mo, for the test
	if _, err := m.WriteTo(io.Discard); !errors.As(err, &se) || !se.Patient {
		t.Errorf("patient limit: %v", err)
	}
	m.Limits.PatientMaxSize = 0 // 25 Mo applies
	if n, err := m.WriteTo(io.Discard); err != nil || n < 40_000 {
		t.Errorf("25 Mo limit: %d, %v", n, err)
	}
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
		if !errors.As(err, &ve) {
			t.Errorf("%s: %v, want a ValidationError", name, err)
			continue
		}
		found := false
		for _, p := range ve.Problems {
			found = found || p.Rule == c.rule
		}
		if !found {
			t.Errorf("%s: no %s problem in %v", name, c.rule, err)
		}
	}
}

func doc(kind string) mssante.Document {
	return mssante.Document{Header: testdocs.Header(testdocs.Patient(kind, true), "11488-4", created), PDF: mssante.BytesOpener(pdf)}
}

func TestSubjectAndFileName(t *testing.T) {
	tr := testdocs.Patient("demo", false).Traits
	if s := mssante.DocumentSubject("CR d'imagerie", &tr); s != "XDM/1.0/DDM+CR d'imagerie PAT-DEMO ÉLODIE-ANNE 24/01/1996" {
		t.Errorf("subject %q", s)
	}
	name := mssante.PDFFileName(ins.Date{Year: 2022, Month: 5, Day: 31}, "CR d'imagerie médicale", &ins.Traits{BirthFamilyName: "Corse", FirstBirthGivenName: "FIGATELLIX"}, "")
	if name != "20220531_CR_d_imagerie_medicale_CORSE_FIGATELLIX.pdf" {
		t.Errorf("file name %q (want the ANS example)", name)
	}
	if n := mssante.PDFFileName(ins.Date{Year: 2026, Month: 1, Day: 2}, "Lettre", &tr, "D 42/7"); n != "20260102_Lettre_PAT-DEMO_ELODIE-ANNE_D_42_7.pdf" {
		t.Errorf("file name %q", n)
	}
	for s, want := range map[string]string{
		"XDM/1.0/DDM+CR X": "CR X",
		"[KO Intégration système !][902] XDM/1.0/DDM+CR X": "[KO Intégration système !][902] CR X",
		"Bonjour": "Bonjour",
	} {
		if got := mssante.DisplaySubject(s); got != want {
			t.Errorf("DisplaySubject(%q) = %q", s, got)
		}
	}
	if !mssante.IsDocumentSubject("[KO Intégration système !][902] XDM/1.0/DDM+CR") || mssante.IsDocumentSubject("Re: XDM") {
		t.Error("IsDocumentSubject")
	}
}

func TestSenderLabel(t *testing.T) {
	for s, want := range map[mssante.Sender]string{
		{Kind: mssante.Personal, GivenName: "Jean Paul", FamilyName: "Du Pont"}:                     "Jean-Paul_DU-PONT",
		{Kind: mssante.Personal, Title: "Pr", GivenName: "Anne", FamilyName: "Lévy", Entity: "SAU"}: "Pr_Anne_LÉVY_SAU",
		{Kind: mssante.Applicative, Entity: "Imagerie CHU"}:                                         "Imagerie CHU",
	} {
		if got := s.Label(); got != want {
			t.Errorf("%+v: %q, want %q", s, got, want)
		}
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
	if r.Subject != "Résultats d'échographie" || r.From.Name != "Secrétariat Cardiologie" ||
		r.Text != "Chère consoeur, voici les résultats.\n" || r.TextCharset != "iso-8859-1" {
		t.Errorf("%q %q %q %q %v", r.Subject, r.From.Name, r.Text, r.TextCharset, r.Problems)
	}
	if r.IsDocumentMessage() || r.FromPatient() {
		t.Error("not a document message, not from a patient")
	}
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
	if r := parse(t, []byte(raw)); r.Text != "Chère consoeur, voici les résultats.\n" {
		t.Errorf("with a global charset reader: %q %v", r.Text, r.Problems)
	}
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
		if r.From == nil || r.From.Address != "secretariat@lilas.mssante.fr" || !strings.Contains(r.From.Name, entity) {
			t.Errorf("entity %q: From = %+v", entity, r.From)
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
		if !errors.Is(err, mssante.ErrInvalid) || buf.Len() != 0 {
			t.Errorf("In-Reply-To %q References %q Message-ID %q: %v, %d bytes written", m.InReplyTo, m.References, m.MessageID, err, buf.Len())
		}
	}
	m := reportMessage()
	m.InReplyTo, m.References = "<orig@x.mssante.fr>", []string{"<first@x.mssante.fr>"}
	m.Attachments = []mssante.Attachment{{Name: "note.txt", ContentType: "text/plain; charset=utf-8", Open: mssante.BytesOpener([]byte("Très bien."))}}
	raw := write(t, m)
	if !bytes.Contains(raw, []byte("Content-Type: text/plain; charset=utf-8; name=note.txt")) {
		t.Errorf("attachment Content-Type lost its parameters or name:\n%s", raw)
	}
	r := parse(t, raw)
	if a := r.Attachment("note.txt"); a == nil || string(a.Data) != "Très bien." {
		t.Errorf("attachment read back: %+v", a)
	}
	m.Attachments[0].ContentType = "text/plain; charset"
	if _, err := m.WriteTo(io.Discard); !errors.Is(err, mssante.ErrInvalid) {
		t.Errorf("a Content-Type that does not parse: %v", err)
	}
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
	if len(names) != 2 || names[0] == names[1] || !strings.HasSuffix(names[1], "-2.pdf") {
		t.Fatalf("PDF names %q", names)
	}
	if !bytes.Equal(datas[0], pdf) || !bytes.Equal(datas[1], second) {
		t.Error("the PDFs differ from those given")
	}
	m.Attachments = []mssante.Attachment{{Name: strings.ToUpper(names[1]), ContentType: "application/pdf", Open: mssante.BytesOpener(second)}}
	if _, err := m.WriteTo(io.Discard); !errors.Is(err, mssante.ErrInvalid) {
		t.Errorf("an attachment reusing a PDF's name: %v", err)
	}
}
