// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
)

// topPart is one direct child of a message's top-level multipart.
type topPart struct {
	Type, Name string
	Body       []byte
}

// topParts reads the direct children of raw's top-level multipart with
// go-message (not with this package's parser, so that a parser bug cannot
// hide a writer bug).
func topParts(t *testing.T, raw []byte) (string, map[string]string, []topPart) {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	require.NoError(t, err)
	mt, params, err := e.Header.ContentType()
	require.NoError(t, err)
	mr := e.MultipartReader()
	require.NotNil(t, mr, "not a multipart message: %s", mt)
	var out []topPart
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		pt, pp, _ := p.Header.ContentType()
		_, dp, _ := p.Header.ContentDisposition()
		name := dp["filename"]
		if name == "" {
			name = pp["name"]
		}
		body, err := io.ReadAll(p.Body)
		require.NoError(t, err)
		out = append(out, topPart{pt, name, body})
	}
	return mt, params, out
}

// documentMessage is the report message with a PDF of about size bytes,
// as received (Return-Path added by the delivering server).
func documentMessage(t *testing.T, size int) *mssante.Received {
	m := reportMessage()
	m.Documents[0].PDF = mssante.BytesOpener(testdocs.PDF("Compte rendu", size))
	return received(t, m)
}

// Issue 15 point 8: an MDN is the multipart/report of RFC 6522 §3 / RFC
// 8098 §3 — the human text, the message/disposition-notification part and
// the original message — and nothing else: the documents travel back
// inside the original (message/rfc822), never re-attached beside it. Its
// size is the original's plus a bounded overhead, not twice the
// attachments.
func TestMDNHasOnlyTheReportParts(t *testing.T) {
	orig := documentMessage(t, 400_000)
	require.NotNil(t, orig.Attachment("IHE_XDM.ZIP"), "fixture: the original carries IHE_XDM.ZIP")
	for _, ie := range []*mssante.IntegrationError{nil, &mssante.IntegrationPatientUnknown} {
		ack, err := mssante.NewMDN(orig, mssante.MDNOptions{From: pfi, Error: ie, Product: "DEV935997"})
		require.NoError(t, err)
		var b bytes.Buffer
		_, err = ack.WriteTo(&b)
		require.NoError(t, err)
		mt, params, parts := topParts(t, b.Bytes())
		assert.Equal(t, "multipart/report", mt)
		assert.Equal(t, "disposition-notification", params["report-type"])
		var types []string
		for _, p := range parts {
			types = append(types, p.Type)
			assert.Empty(t, p.Name, "part %s is a named attachment", p.Type)
		}
		assert.Equal(t, []string{"text/plain", "message/disposition-notification", "message/rfc822"}, types)
		if len(parts) == 3 {
			assert.True(t, bytes.Equal(orig.Raw, bytes.TrimSuffix(parts[2].Body, []byte("\r\n"))) ||
				bytes.Equal(orig.Raw, parts[2].Body), "the third part is the original message as received")
		}
		assert.LessOrEqual(t, b.Len(), len(orig.Raw)+4096, "MDN of %d bytes for an original of %d", b.Len(), len(orig.Raw))

		res, err := mssante.CheckMessage(bytes.NewReader(b.Bytes()))
		require.NoError(t, err)
		assert.Equal(t, mssante.KindMDN, res.Kind)
		assert.False(t, res.ServerGenerated(), "an MDN is written by the recipient's software")
		assert.Empty(t, res.Problems)
	}
}

// A hand-built report with the defect of issue 15 point 8 (the documents
// attached again after the original: 5 parts) is refused by Check with
// rule identifiers, as an independent Ref#2 checker refuses it.
func TestCheckRefusesAReportWithAttachments(t *testing.T) {
	orig := documentMessage(t, 30_000)
	xdmData := orig.Attachment("IHE_XDM.ZIP").Data
	raw := handReport("disposition-notification", mdnText, "message/disposition-notification", mdnFields,
		[3]string{"message/rfc822", "", string(orig.Raw)},
		[3]string{"application/zip", "IHE_XDM.ZIP", string(xdmData)},
		[3]string{"application/pdf", pdfName, "%PDF-1.4"})
	ps := check(t, raw)
	assert.True(t, hasProblem(ps, "RFC6522", "5 parts"), "part count: %v", ps)
	assert.True(t, hasProblem(ps, "RFC6522", "IHE_XDM.ZIP"), "the archive attached to a report: %v", ps)
	assert.True(t, hasProblem(ps, "RFC6522", pdfName), "the PDF attached to a report: %v", ps)
	assert.True(t, rules(ps)["ECO.2.4.1"], "IHE_XDM.ZIP without X-MSS-CODECDA (Ref#2): %v", ps)

	// The same report with its three parts only is clean.
	good := handReport("disposition-notification", mdnText, "message/disposition-notification", mdnFields,
		[3]string{"message/rfc822", "", string(orig.Raw)})
	assert.Empty(t, check(t, good))
}

// Issue 15 point 9: the real Postfix DSNs break no rule (X-MSS-NIL is for
// messages a client sends, not for what the operator's server writes),
// and the result says they are server-generated reports.
func TestCheckPostfixDSNs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "dsn", "*.eml"))
	require.NoError(t, err)
	require.Len(t, files, 10)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.Empty(t, check(t, raw), filepath.Base(f))
		res, err := mssante.CheckMessage(bytes.NewReader(raw))
		require.NoError(t, err)
		assert.Equal(t, mssante.KindDSN, res.Kind, filepath.Base(f))
		assert.True(t, res.ServerGenerated(), filepath.Base(f))
		assert.Empty(t, res.Problems, filepath.Base(f))
		m := parse(t, raw)
		assert.Equal(t, mssante.ReportDeliveryStatus, m.ReportType)
		assert.Equal(t, mssante.KindDSN, m.Kind())
	}
	// A client's message is not a report, whatever its faults.
	res, err := mssante.CheckMessage(bytes.NewReader([]byte("From: <a@b.mssante.fr>\r\nSubject: x\r\n\r\nx\r\n")))
	require.NoError(t, err)
	assert.Equal(t, mssante.KindMessage, res.Kind)
	assert.False(t, res.ServerGenerated())
	assert.True(t, rules(res.Problems)["ECO.2.4.3"], "a client message without X-MSS-NIL: %v", res.Problems)
}

// The DSN rules are not vacuous: a Postfix DSN edited to break RFC 3464
// or RFC 6522 is reported, with the field.
func TestCheckBrokenDSNs(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("..", "testdata", "dsn", "success-relayed.eml"))
	require.NoError(t, err)
	swap := func(old, new string) []byte {
		require.Contains(t, string(good), old, "fixture")
		return []byte(strings.Replace(string(good), old, new, 1))
	}
	_, params, _ := topParts(t, good)
	bnd := "--" + params["boundary"]
	attached := swap(bnd+"--", bnd+"\r\nContent-Type: application/zip; name=IHE_XDM.ZIP\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\r\n"+bnd+"--")
	for name, c := range map[string]struct {
		raw         []byte
		rule, field string
	}{
		"no Reporting-MTA":     {swap("Reporting-MTA: dns; mta.hopital.test.mssante.fr\r\n", ""), "RFC3464", "Reporting-MTA"},
		"unknown Action":       {swap("Action: relayed", "Action: arrived"), "RFC3464", "recipient 1 Action"},
		"short Status":         {swap("Status: 2.0.0", "Status: 2.0"), "RFC3464", "recipient 1 Status"},
		"untyped recipient":    {swap("Final-Recipient: rfc822; ", "Final-Recipient: "), "RFC3464", "recipient 1 Final-Recipient"},
		"no delivery-status":   {swap("Content-Type: message/delivery-status", "Content-Type: text/plain"), "RFC6522", "part 2"},
		"archive attached":     {attached, "RFC6522", "part 4 IHE_XDM.ZIP"},
		"encoded machine part": {swap("Content-Type: message/delivery-status\r\n", "Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: quoted-printable\r\n"), "RFC3464", "part 2"},
	} {
		ps := check(t, c.raw)
		assert.True(t, hasField(ps, c.rule, c.field), "%s: want %s %s, got %v", name, c.rule, c.field, ps)
		assert.False(t, rules(ps)["ECO.2.4.3"], "%s: X-MSS-NIL is not asked of a DSN", name)
	}
}

// An MDN is linted by RFC 6522, RFC 8098, the ANS volet and the Ref#2
// rules of a sent message; each fault below is reported with its rule
// and field.
func TestCheckBrokenMDNs(t *testing.T) {
	orig := received(t, reportMessage())
	build := func(ie *mssante.IntegrationError, edit func(a *mssante.Ack)) []byte {
		t.Helper()
		a, err := mssante.NewMDN(orig, mssante.MDNOptions{From: pfi, Error: ie, Product: "DEV1"})
		require.NoError(t, err)
		if edit != nil {
			edit(a)
		}
		var b bytes.Buffer
		_, err = a.WriteTo(&b)
		require.NoError(t, err)
		return b.Bytes()
	}
	ko := build(&mssante.IntegrationPatientUnknown, nil)
	require.Empty(t, check(t, ko), "control: the failure MDN gomss builds")
	require.Empty(t, check(t, build(nil, nil)), "control: the success MDN gomss builds")
	swap := func(old, new string) []byte {
		require.Contains(t, string(ko), old, "fixture")
		return []byte(strings.Replace(string(ko), old, new, 1))
	}
	dispo := "Disposition: automatic-action/MDN-sent-automatically; processed/Error: 902^Identifiant patient inconnu"
	headersOnly := handReport("disposition-notification", mdnText, "message/disposition-notification", mdnFields,
		[3]string{"text/rfc822-headers", "", "Message-ID: <20261124103000.1@lilas.mssante.fr>\r\n"})
	base64Part := handReport("disposition-notification", mdnText, "message/disposition-notification\r\nContent-Transfer-Encoding: base64", b64(mdnFields),
		[3]string{"message/rfc822", "", string(orig.Raw)})
	for name, c := range map[string]struct {
		raw         []byte
		rule, field string
	}{
		"no report-type":         {swap(";\r\n report-type=disposition-notification\r\n", "\r\n"), "RFC6522", "Content-Type"},
		"wrong report-type":      {swap("report-type=disposition-notification", "report-type=delivery-status"), "RFC6522", "part 2"},
		"first part not text":    {swap("Content-Type: text/plain; charset=utf-8\r\n", "Content-Type: application/octet-stream\r\n"), "RFC6522", "part 1"},
		"archive as third part":  {handReport("disposition-notification", mdnText, "message/disposition-notification", mdnFields, [3]string{"application/zip", "IHE_XDM.ZIP", "PK"}), "RFC6522", "part 3 IHE_XDM.ZIP"},
		"encoded machine part":   {base64Part, "RFC8098", "part 2"},
		"non-ASCII field":        {swap("Reporting-UA: chu-exemple.mssante.fr; gomss", "Reporting-UA: chu-exemple.mssante.fr; gomss é"), "RFC8098", "message/disposition-notification"},
		"empty Reporting-UA":     {swap("Reporting-UA: chu-exemple.mssante.fr; gomss", "Reporting-UA: ; gomss"), "RFC8098", "Reporting-UA"},
		"no Final-Recipient":     {swap("Final-Recipient: rfc822;integration@chu-exemple.mssante.fr\r\n", ""), "RFC8098", "Final-Recipient"},
		"no Disposition":         {swap(dispo+"\r\n", ""), "RFC8098", "Disposition"},
		"no sending mode":        {swap("automatic-action/MDN-sent-automatically; processed", "automatic-action; processed"), "RFC8098", "Disposition"},
		"unknown type":           {swap("MDN-sent-automatically; processed", "MDN-sent-automatically; integrated"), "RFC8098", "Disposition"},
		"malformed original id":  {swap("Original-Message-ID: <20261124103000.1@lilas.mssante.fr>", "Original-Message-ID: 12345"), "RFC8098", "Original-Message-ID"},
		"another original id":    {swap("Original-Message-ID: <20261124103000.1@lilas.mssante.fr>", "Original-Message-ID: <autre@lilas.mssante.fr>"), "RFC8098", "Original-Message-ID"},
		"no original id":         {swap("Original-Message-ID: <20261124103000.1@lilas.mssante.fr>\r\n", ""), "VT-LPS.MDN", "Original-Message-ID"},
		"no original recipient":  {swap("Original-Recipient: rfc822;integration@chu-exemple.mssante.fr\r\n", ""), "VT-LPS.MDN", "Original-Recipient"},
		"headers only":           {headersOnly, "VT-LPS.MDN", "part 3"},
		"no returned message":    {handReport("disposition-notification", mdnText, "message/disposition-notification", mdnFields), "VT-LPS.MDN", "part 3"},
		"error without KO":       {build(&mssante.IntegrationPatientUnknown, func(a *mssante.Ack) { a.Subject = orig.Subject }), "VT-LPS.MDN", "Subject"},
		"KO code differs":        {build(&mssante.IntegrationPatientUnknown, func(a *mssante.Ack) { a.Subject = mssante.KOSubject(903, orig.Subject) }), "VT-LPS.MDN", "Subject"},
		"KO on a success":        {build(nil, func(a *mssante.Ack) { a.Subject = mssante.KOSubject(902, orig.Subject) }), "VT-LPS.MDN", "Subject"},
		"not the original's":     {build(nil, func(a *mssante.Ack) { a.Subject = "Accusé de lecture" }), "VT-LPS.MDN", "Subject"},
		"error without code":     {swap(dispo, "Disposition: automatic-action/MDN-sent-automatically; processed/error"), "VT-LPS.MDN", "Disposition"},
		"text without the error": {swap("902^Identifiant patient inconnu", "905^INS incomplet"), "VT-LPS.MDN", "text"},
		"not to the requester":   {build(nil, func(a *mssante.Ack) { a.To = "autre@lilas.mssante.fr" }), "RFC8098", "To"},
		"no X-MSS-NIL":           {swap("X-MSS-NIL: DEV1\r\n", ""), "ECO.2.4.3", mssante.HeaderNIL},
		"X-MSS-CODECDA":          {swap("MIME-Version: 1.0\r\nContent-Type: multipart/report", "X-MSS-CODECDA: 11488-4\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report"), "ECO.2.4.1", mssante.HeaderCodeCDA},
		"no label":               {swap("From: PFI CHU Exemple <", "From: <"), "ECO.2.2.7", "From"},
	} {
		assert.True(t, hasField(check(t, c.raw), c.rule, c.field), "%s: want %s %s, got %v", name, c.rule, c.field, check(t, c.raw))
	}

	// A read receipt of a personal mailbox ("displayed", no original
	// returned, no Original-Recipient) is held to RFC 8098, not to the
	// volet on integrations.
	displayed := strings.Replace(strings.Replace(mdnFields, "processed", "displayed", 1), "Original-Recipient: rfc822;integration@chu-exemple.mssante.fr\r\n", "", 1)
	receipt := handReportWith(strings.Replace(mdnHeaders, "Subject: XDM/1.0/DDM+", "Subject: Lu : ", 1),
		"disposition-notification", "Votre message a été affiché.", "message/disposition-notification", displayed)
	assert.Empty(t, check(t, receipt))
}

// A report of a type this package does not know is checked against RFC
// 6522 only; one without report-type is classified by its machine part
// and told that it lacks it.
func TestCheckOtherReports(t *testing.T) {
	arf := handReportWith("From: <abuse@fai.example>\r\nMessage-ID: <r.1@fai.example>\r\n", "feedback-report", "Signalement.",
		"message/feedback-report", "Feedback-Type: abuse\r\n", [3]string{"message/rfc822", "", "Subject: x\r\n\r\nx\r\n"})
	res, err := mssante.CheckMessage(bytes.NewReader(arf))
	require.NoError(t, err)
	assert.Equal(t, mssante.KindReport, res.Kind)
	assert.False(t, res.ServerGenerated())
	assert.Empty(t, res.Problems, "no X-MSS-* or client rule on a report of unknown origin")
	arf5 := handReportWith("From: <abuse@fai.example>\r\n", "feedback-report", "Signalement.", "message/feedback-report", "Feedback-Type: abuse\r\n",
		[3]string{"message/rfc822", "", "Subject: x\r\n\r\nx\r\n"}, [3]string{"application/pdf", "a.pdf", "%PDF"})
	assert.True(t, hasField(check(t, arf5), "RFC6522", "part 4 a.pdf"), "%v", check(t, arf5))

	noType := handReportWith("From: <m@b.example>\r\n", "", "x", "message/delivery-status",
		"Reporting-MTA: dns; b.example\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 5.1.1\r\n")
	res, err = mssante.CheckMessage(bytes.NewReader(noType))
	require.NoError(t, err)
	assert.Equal(t, mssante.KindDSN, res.Kind)
	assert.True(t, hasField(res.Problems, "RFC6522", "Content-Type"), "%v", res.Problems)
}

const mdnText = "Le message ci-dessous a été intégré dans le logiciel du destinataire.\r\n"

const mdnFields = "Reporting-UA: chu-exemple.mssante.fr; gomss\r\n" +
	"Original-Recipient: rfc822;integration@chu-exemple.mssante.fr\r\n" +
	"Final-Recipient: rfc822;integration@chu-exemple.mssante.fr\r\n" +
	"Original-Message-ID: <20261124103000.1@lilas.mssante.fr>\r\n" +
	"Disposition: automatic-action/MDN-sent-automatically; processed\r\n"

const mdnHeaders = "From: PFI CHU Exemple <integration@chu-exemple.mssante.fr>\r\n" +
	"To: <marcel.camparini@lilas.mssante.fr>\r\n" +
	"Subject: XDM/1.0/DDM+Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979\r\n" +
	"Message-ID: <mdn.1@chu-exemple.mssante.fr>\r\n" +
	"X-MSS-NIL: DEV935997\r\n"

// handReport writes a multipart/report by hand: the human text, the
// machine part, then each extra part (content type, file name or "",
// data; a named part is base64-encoded).
func handReport(reportType, text, machineType, fields string, extra ...[3]string) []byte {
	return handReportWith(mdnHeaders, reportType, text, machineType, fields, extra...)
}

func handReportWith(headers, reportType, text, machineType, fields string, extra ...[3]string) []byte {
	var b strings.Builder
	b.WriteString(headers)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/report; ")
	if reportType != "" {
		b.WriteString("report-type=" + reportType + "; ")
	}
	b.WriteString("boundary=\"RPT\"\r\n\r\n")
	b.WriteString("--RPT\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text + "\r\n")
	b.WriteString("--RPT\r\nContent-Type: " + machineType + "\r\n\r\n" + fields + "\r\n")
	for _, p := range extra {
		if p[1] == "" {
			b.WriteString("--RPT\r\nContent-Type: " + p[0] + "\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + p[2] + "\r\n")
			continue
		}
		b.WriteString("--RPT\r\nContent-Type: " + p[0] + "; name=\"" + p[1] + "\"\r\nContent-Disposition: attachment; filename=\"" + p[1] +
			"\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(p[2]) + "\r\n")
	}
	b.WriteString("--RPT--\r\n")
	return []byte(b.String())
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func hasField(ps []mssante.Problem, rule, field string) bool {
	for _, p := range ps {
		if p.Rule == rule && p.Field == field {
			return true
		}
	}
	return false
}

func hasProblem(ps []mssante.Problem, rule, text string) bool {
	for _, p := range ps {
		if p.Rule == rule && strings.Contains(p.Field+" "+p.Detail, text) {
			return true
		}
	}
	return false
}
