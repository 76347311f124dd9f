// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		require.NoError(t, err)
		assert.Equal(t, "marcel.camparini@lilas.mssante.fr", ack.To, "ack To")
		assert.Equal(t, c.subject, ack.Subject, "ack Subject")
		assert.Equal(t, c.disp, ack.Disposition, "ack Disposition")
		env := ack.Envelope()
		assert.Empty(t, env.From, "an MDN goes with a null return path")
		require.NotEmpty(t, env.Recipients)
		assert.Equal(t, ack.To, env.Recipients[0], "envelope recipient")
		var b bytes.Buffer
		_, err = ack.WriteTo(&b)
		require.NoError(t, err)
		raw := b.String()
		for _, want := range []string{"report-type=disposition-notification", "Content-Type: message/disposition-notification",
			"Original-Message-ID: <20261124103000.1@lilas.mssante.fr>", "Final-Recipient: rfc822;integration@chu-exemple.mssante.fr",
			"Content-Type: message/rfc822", "X-MSS-NIL: DEV935997", "filename=IHE_XDM.ZIP"} {
			assert.Contains(t, raw, want, "MDN lacks %q", want)
		}
		got := parse(t, b.Bytes())
		rep, err := mssante.ParseMDN(got)
		require.NoError(t, err)
		assert.Equal(t, orig.MessageID, rep.OriginalMessageID, "OriginalMessageID")
		assert.Equal(t, pfi.Address, rep.FinalRecipient, "FinalRecipient")
		assert.Equal(t, "processed", rep.Type, "Type")
		assert.Equal(t, "automatic-action", rep.ActionMode, "ActionMode")
		assert.Equal(t, "MDN-sent-automatically", rep.SendingMode, "SendingMode")
		assert.Equal(t, c.err == nil, rep.Success(), "Success")
		if c.err != nil && assert.NotNil(t, rep.Error, "outcome") {
			assert.Equal(t, 902, rep.Error.Code, "error code")
			assert.Equal(t, c.err.Label, rep.Error.Label, "error label")
		}
		assert.Equal(t, c.subject, got.Subject, "subject read back")
		assert.False(t, got.IsDocumentMessage(), "an MDN is not a document message")
		if c.err != nil {
			assert.Equal(t, 902, mssante.IntegrationCodeFromSubject(got.Subject), "code in the KO subject")
		}
		// The original message travels back, its attachments inside it,
		// nothing attached beside it (RFC 6522 §3; issue 15).
		require.Empty(t, got.Attachments, "nothing attached beside the report")
		require.Len(t, got.Reports, 2, "reports")
		require.Equal(t, "message/rfc822", got.Reports[1].ContentType)
		back := parse(t, got.Reports[1].Data)
		assert.NotNil(t, back.Attachment("IHE_XDM.ZIP"), "the returned original keeps its archive")
		assert.Equal(t, orig.MessageID, back.MessageID, "the returned original is the original")
		// Never an MDN to an MDN.
		got.DispositionNotificationTo = []mssante.Address{{Address: pfi.Address}}
		_, err = mssante.NewMDN(got, mssante.MDNOptions{From: pfi, Confirmed: true, Product: "X"})
		assert.ErrorIs(t, err, mssante.ErrMDNToReport, "MDN to an MDN")
	}
}

func TestMDNRules(t *testing.T) {
	m := reportMessage()
	m.ReadReceipt = false
	_, err := mssante.NewMDN(received(t, m), mssante.MDNOptions{From: pfi, Product: "X"})
	assert.ErrorIs(t, err, mssante.ErrNoMDNRequested, "no request")
	// Return-Path differs (or is missing): only with the user's confirmation.
	raw := write(t, reportMessage())
	for _, rp := range []string{"Return-Path: <bounces@lilas.mssante.fr>\r\n", ""} {
		r := parse(t, append([]byte(rp), raw...))
		_, err := mssante.NewMDN(r, mssante.MDNOptions{From: pfi, Product: "X"})
		assert.ErrorIs(t, err, mssante.ErrMDNNeedsConfirmation, "Return-Path %q", rp)
		ack, err := mssante.NewMDN(r, mssante.MDNOptions{From: pfi, Product: "X", Confirmed: true, Manual: true})
		if assert.NoError(t, err, "confirmed, Return-Path %q", rp) {
			assert.True(t, strings.HasPrefix(ack.Disposition, "manual-action/MDN-sent-manually"), "confirmed: disposition %q", ack.Disposition)
		}
	}
	// The product reference is required on an MDN as on every message.
	ack, err := mssante.NewMDN(received(t, reportMessage()), mssante.MDNOptions{From: pfi})
	require.NoError(t, err)
	_, err = ack.WriteTo(&bytes.Buffer{})
	assert.ErrorIs(t, err, mssante.ErrInvalid, "MDN without X-MSS-NIL")
	var ve *mssante.ValidationError
	if assert.ErrorAs(t, err, &ve) {
		assert.Contains(t, ve.Problems, mssante.Problem{Rule: "ECO.2.4.3", Field: mssante.HeaderNIL, Detail: "the product reference is required on every message"})
	}
}

func TestErrorMail(t *testing.T) {
	m := reportMessage()
	m.ReadReceipt = false
	orig := received(t, m)
	ack, err := mssante.NewErrorMail(orig, pfi, "erreurs-integration@chu-exemple.mssante.fr", mssante.IntegrationINSMismatch, "DEV935997")
	require.NoError(t, err)
	var b bytes.Buffer
	_, err = ack.WriteTo(&b)
	require.NoError(t, err)
	got := parse(t, b.Bytes())
	assert.Equal(t, "multipart/mixed", got.ContentType, "error mail")
	assert.Equal(t, 904, mssante.IntegrationCodeFromSubject(got.Subject), "code in the subject %q", got.Subject)
	assert.Contains(t, got.Text, "Code d'erreur : 904")
	assert.NotNil(t, got.Attachment("message_original.eml"), "the original message is attached")
	assert.NotNil(t, got.Attachment("IHE_XDM.ZIP"), "the archive is attached")
	assert.Equal(t, pfi.Address, ack.Envelope().From, "an error mail is an ordinary message")
	_, err = mssante.ParseMDN(got)
	assert.ErrorIs(t, err, mssante.ErrNotReport, "an error mail is not an MDN")
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
	require.NoError(t, err)
	if assert.NotNil(t, rep.Error, "the extended error value is read") {
		assert.Equal(t, 902, rep.Error.Code)
		assert.Equal(t, "Identifiant de patient inconnu", rep.Error.Label)
	}
	assert.Equal(t, "serviceY_auto@chb.mssante.fr", rep.FinalRecipient)
	assert.Equal(t, "<199509192301.23456@chb.mssante.fr>", rep.OriginalMessageID)
	assert.Equal(t, "[KO Intégration système !][902] ECHOGRAPHIE CORSE FIGATELLIX 12/10/1988", r.DisplaySubject())
}

func TestIntegrationErrors(t *testing.T) {
	for code := 900; code <= 906; code++ {
		e, ok := mssante.IntegrationErrorFor(code)
		if assert.True(t, ok, "%d is in the table", code) {
			assert.Equal(t, code, e.Code)
			assert.NotEmpty(t, e.Label, "label of %d", code)
		}
	}
	_, ok := mssante.IntegrationErrorFor(907)
	assert.False(t, ok, "907 is not in the table")
	var err error = mssante.IntegrationINSIncomplete
	var ie mssante.IntegrationError
	if assert.ErrorAs(t, err, &ie, "IntegrationError is an error a handler can return") {
		assert.Equal(t, 905, ie.Code)
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
	require.NoError(t, err)
	var b bytes.Buffer
	_, err = ack.WriteTo(&b)
	require.NoError(t, err)
	raw := b.String()
	i := strings.Index(raw, "Content-Type: message/disposition-notification")
	require.GreaterOrEqual(t, i, 0, "no disposition part:\n%s", raw)
	j := strings.Index(raw[i:], "\r\n--")
	require.GreaterOrEqual(t, j, 0, "no end to the disposition part:\n%s", raw)
	part := raw[i : i+j]
	for k := 0; k < len(part); k++ {
		require.Less(t, part[k], byte(0x80), "non-ASCII byte at %d in the disposition part:\n%s", k, part)
	}
	assert.Contains(t, part, "processed/Error: 904^L'INS transmis ne correspond pas exactement a celui stocke dans la base du consommateur")
	r, err := mssante.ParseMDN(parse(t, b.Bytes()))
	require.NoError(t, err)
	require.NotNil(t, r.Error, "ParseMDN: %+v", r)
	require.Equal(t, 904, r.Error.Code)
	assert.True(t, strings.Contains(raw, "stock=C3=A9") || strings.Contains(raw, "stocké"), "the text part lost the label's accents")

	raw2 := write(t, reportMessage())
	two := strings.Replace(string(raw2), "Disposition-Notification-To: ", "Disposition-Notification-To: <archives@ailleurs.mssante.fr>, ", 1)
	require.NotEqual(t, string(raw2), two, "no Disposition-Notification-To to edit")
	r2 := parse(t, []byte("Return-Path: <"+reportMessage().From.Address+">\r\n"+two))
	require.Len(t, r2.DispositionNotificationTo, 2, "Disposition-Notification-To")
	_, err = mssante.NewMDN(r2, mssante.MDNOptions{From: pfi, Product: "DEV1"})
	assert.ErrorIs(t, err, mssante.ErrMDNNeedsConfirmation, "two addresses, one not the Return-Path")
}
