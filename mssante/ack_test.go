package mssante_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/mssante"
)

var pfi = mssante.Sender{Address: "integration@chu-exemple.mssante.fr", Kind: mssante.Applicative, Entity: "PFI CHU Exemple"}

// received builds the report message and parses it as the recipient's
// mailbox would see it (Return-Path added by the delivering server).
func received(t testing.TB, m *mssante.Message) *mssante.Received {
	t.Helper()
	raw := append([]byte("Return-Path: <"+m.From.Address+">\r\n"), write(t, m)...)
	return parse(t, raw)
}

func TestMDNSuccessAndFailure(t *testing.T) {
	orig := received(t, reportMessage())
	for _, c := range []struct {
		err     *mssante.IntegrationError
		subject string
		disp    string
	}{
		{nil, orig.Subject, "automatic-action/MDN-sent-automatically; processed"},
		{&mssante.IntegrationPatientUnknown, "[KO Intégration système !][902] " + orig.Subject,
			"automatic-action/MDN-sent-automatically; processed/Error: 902^Identifiant patient inconnu"},
	} {
		ack, err := mssante.NewMDN(orig, mssante.MDNOptions{From: pfi, Error: c.err, Product: "DEV935997"})
		if err != nil {
			t.Fatal(err)
		}
		if ack.To != "marcel.camparini@lilas.mssante.fr" || ack.Subject != c.subject || ack.Disposition != c.disp {
			t.Errorf("ack %q %q %q", ack.To, ack.Subject, ack.Disposition)
		}
		if env := ack.Envelope(); env.From != "" || env.Recipients[0] != ack.To {
			t.Errorf("an MDN goes with a null return path: %+v", env)
		}
		var b bytes.Buffer
		if _, err := ack.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		raw := b.Bytes()
		for _, want := range []string{"report-type=disposition-notification", "Content-Type: message/disposition-notification",
			"Original-Message-ID: <20261124103000.1@lilas.mssante.fr>", "Final-Recipient: rfc822;integration@chu-exemple.mssante.fr",
			"Content-Type: message/rfc822", "X-MSS-NIL: DEV935997", "filename=IHE_XDM.ZIP"} {
			if !bytes.Contains(raw, []byte(want)) {
				t.Errorf("MDN lacks %q", want)
			}
		}
		got := parse(t, raw)
		rep, err := mssante.ParseMDN(got)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OriginalMessageID != orig.MessageID || rep.FinalRecipient != pfi.Address || rep.Type != "processed" ||
			rep.ActionMode != "automatic-action" || rep.SendingMode != "MDN-sent-automatically" {
			t.Errorf("report %+v", rep)
		}
		if (c.err == nil) != rep.Success() || (c.err != nil && (rep.Error.Code != 902 || rep.Error.Label != c.err.Label)) {
			t.Errorf("outcome %+v", rep.Error)
		}
		if got.Subject != c.subject || got.IsDocumentMessage() {
			t.Errorf("subject %q, document message %v", got.Subject, got.IsDocumentMessage())
		}
		if c.err != nil && mssante.IntegrationCodeFromSubject(got.Subject) != 902 {
			t.Error("code not found in the KO subject")
		}
		// The original message travels back, its attachments inside it,
		// nothing attached beside it (RFC 6522 §3; issue 15).
		if len(got.Attachments) != 0 || len(got.Reports) != 2 || got.Reports[1].ContentType != "message/rfc822" {
			t.Fatalf("attachments %d, reports %d", len(got.Attachments), len(got.Reports))
		}
		if back := parse(t, got.Reports[1].Data); back.Attachment("IHE_XDM.ZIP") == nil || back.MessageID != orig.MessageID {
			t.Errorf("the returned original lacks its archive or is another message (%s)", back.MessageID)
		}
		// Never an MDN to an MDN.
		got.DispositionNotificationTo = []mssante.Address{{Address: pfi.Address}}
		if _, err := mssante.NewMDN(got, mssante.MDNOptions{From: pfi, Confirmed: true, Product: "X"}); !errors.Is(err, mssante.ErrMDNToReport) {
			t.Errorf("MDN to an MDN: %v", err)
		}
	}
}

func TestMDNRules(t *testing.T) {
	m := reportMessage()
	m.ReadReceipt = false
	if _, err := mssante.NewMDN(received(t, m), mssante.MDNOptions{From: pfi, Product: "X"}); !errors.Is(err, mssante.ErrNoMDNRequested) {
		t.Errorf("no request: %v", err)
	}
	// Return-Path differs (or is missing): only with the user's confirmation.
	raw := write(t, reportMessage())
	for _, rp := range []string{"Return-Path: <bounces@lilas.mssante.fr>\r\n", ""} {
		r := parse(t, append([]byte(rp), raw...))
		if _, err := mssante.NewMDN(r, mssante.MDNOptions{From: pfi, Product: "X"}); !errors.Is(err, mssante.ErrMDNNeedsConfirmation) {
			t.Errorf("Return-Path %q: %v", rp, err)
		}
		ack, err := mssante.NewMDN(r, mssante.MDNOptions{From: pfi, Product: "X", Confirmed: true, Manual: true})
		if err != nil || !strings.HasPrefix(ack.Disposition, "manual-action/MDN-sent-manually") {
			t.Errorf("confirmed: %v %+v", err, ack)
		}
	}
	// The product reference is required on an MDN as on every message.
	ack, _ := mssante.NewMDN(received(t, reportMessage()), mssante.MDNOptions{From: pfi})
	if _, err := ack.WriteTo(&bytes.Buffer{}); !errors.Is(err, mssante.ErrInvalid) {
		t.Errorf("MDN without X-MSS-NIL: %v", err)
	}
}

func TestErrorMail(t *testing.T) {
	m := reportMessage()
	m.ReadReceipt = false
	orig := received(t, m)
	ack, err := mssante.NewErrorMail(orig, pfi, "erreurs-integration@chu-exemple.mssante.fr", mssante.IntegrationINSMismatch, "DEV935997")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := ack.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	got := parse(t, b.Bytes())
	if got.ContentType != "multipart/mixed" || mssante.IntegrationCodeFromSubject(got.Subject) != 904 ||
		!strings.Contains(got.Text, "Code d'erreur : 904") || got.Attachment("message_original.eml") == nil || got.Attachment("IHE_XDM.ZIP") == nil {
		t.Errorf("error mail: %s %q attachments %d", got.ContentType, got.Subject, len(got.Attachments))
	}
	if env := ack.Envelope(); env.From != pfi.Address {
		t.Errorf("an error mail is an ordinary message: %+v", env)
	}
	if _, err := mssante.ParseMDN(got); !errors.Is(err, mssante.ErrNotReport) {
		t.Errorf("an error mail is not an MDN: %v", err)
	}
}

// The ANS example of a failure MDN (VT-LPS struct-msg-mdn), with its
// extended error value and missing space after "Disposition:", as a
// fixture written after it.
const ansStyleMDN = "From: serviceY_auto@chb.mssante.fr\r\n" +
	"To: serviceY@chb.mssante.fr\r\n" +
	"Subject: =?utf-8?q?[KO_Int=C3=A9gration_syst=C3=A8me_!][902]_XDM/1.0/DDM+ECHOGRAPHIE_CORSE_FIGATELLIX_12/10/1988?=\r\n" +
	"Message-Id: <199509200019.12345@chb.mssante.fr>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/report; report-type=disposition-notification; boundary=\"RAA14128.773615765\"\r\n" +
	"\r\n" +
	"--RAA14128.773615765\r\n" +
	"\r\n" +
	"Le document n'a pas pu etre integre.\r\n" +
	"--RAA14128.773615765\r\n" +
	"Content-Type: message/disposition-notification\r\n" +
	"\r\n" +
	"Original-Recipient: rfc822;serviceY_auto@chb.mssante.fr \r\n" +
	"Final-Recipient: rfc822; serviceY_auto@chb.mssante.fr \r\n" +
	"Original-Message-ID: <199509192301.23456@chb.mssante.fr>\r\n" +
	"Disposition:automatic-action/MDN-sent-automatically; processed/Error: 902^Identifiant de patient inconnu^messageErrorCondition| E^Error^errorSeverity\r\n" +
	"--RAA14128.773615765--\r\n"

func TestParseANSStyleMDN(t *testing.T) {
	r := parse(t, []byte(ansStyleMDN))
	rep, err := mssante.ParseMDN(r)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Error == nil || rep.Error.Code != 902 || rep.Error.Label != "Identifiant de patient inconnu" ||
		rep.FinalRecipient != "serviceY_auto@chb.mssante.fr" || rep.OriginalMessageID != "<199509192301.23456@chb.mssante.fr>" {
		t.Errorf("%+v %+v", rep, rep.Error)
	}
	if r.DisplaySubject() != "[KO Intégration système !][902] ECHOGRAPHIE CORSE FIGATELLIX 12/10/1988" {
		t.Errorf("display subject %q", r.DisplaySubject())
	}
}

func TestIntegrationErrors(t *testing.T) {
	for code := 900; code <= 906; code++ {
		e, ok := mssante.IntegrationErrorFor(code)
		if !ok || e.Code != code || e.Label == "" {
			t.Errorf("%d: %+v", code, e)
		}
	}
	if _, ok := mssante.IntegrationErrorFor(907); ok {
		t.Error("907 is not in the table")
	}
	var err error = mssante.IntegrationINSIncomplete
	var ie mssante.IntegrationError
	if !errors.As(err, &ie) || ie.Code != 905 {
		t.Error("IntegrationError is an error a handler can return")
	}
}

// The disposition-notification part is 7bit US-ASCII (RFC 8098): a label
// with accents (904) is written there without them, the code read back
// intact, the text part keeping the label whole. Two addresses in
// Disposition-Notification-To, one not the Return-Path: no automatic MDN
// (found by a review).
func TestMDNNonASCIILabelAndSeveralAddresses(t *testing.T) {
	orig := received(t, reportMessage())
	ack, err := mssante.NewMDN(orig, mssante.MDNOptions{From: pfi, Error: &mssante.IntegrationINSMismatch, Product: "DEV1"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := ack.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	raw := b.String()
	i := strings.Index(raw, "Content-Type: message/disposition-notification")
	j := strings.Index(raw[i:], "\r\n--")
	if i < 0 || j < 0 {
		t.Fatalf("no disposition part:\n%s", raw)
	}
	part := raw[i : i+j]
	for k := 0; k < len(part); k++ {
		if part[k] >= 0x80 {
			t.Fatalf("non-ASCII byte in the disposition part:\n%s", part)
		}
	}
	if !strings.Contains(part, "processed/Error: 904^L'INS transmis ne correspond pas exactement a celui stocke dans la base du consommateur") {
		t.Errorf("disposition part:\n%s", part)
	}
	r, err := mssante.ParseMDN(parse(t, b.Bytes()))
	if err != nil || r.Error == nil || r.Error.Code != 904 {
		t.Fatalf("ParseMDN: %+v %v", r, err)
	}
	if !strings.Contains(raw, "stock=C3=A9") && !strings.Contains(raw, "stocké") {
		t.Error("the text part lost the label's accents")
	}

	raw2 := write(t, reportMessage())
	two := strings.Replace(string(raw2), "Disposition-Notification-To: ", "Disposition-Notification-To: <archives@ailleurs.mssante.fr>, ", 1)
	if two == string(raw2) {
		t.Fatal("no Disposition-Notification-To to edit")
	}
	r2 := parse(t, []byte("Return-Path: <"+reportMessage().From.Address+">\r\n"+two))
	if len(r2.DispositionNotificationTo) != 2 {
		t.Fatalf("Disposition-Notification-To read as %+v", r2.DispositionNotificationTo)
	}
	if _, err := mssante.NewMDN(r2, mssante.MDNOptions{From: pfi, Product: "DEV1"}); !errors.Is(err, mssante.ErrMDNNeedsConfirmation) {
		t.Errorf("two addresses, one not the Return-Path: %v", err)
	}
}
