// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante"
)

// handMessage writes a multipart/mixed message by hand (as another
// software might), so that the checker can be fed what gomss refuses to
// build.
func handMessage(headers string, parts ...[3]string) []byte {
	var b strings.Builder
	b.WriteString(headers)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n")
	b.WriteString("--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour.\r\n")
	for _, p := range parts { // name, content type, data
		fmt.Fprintf(&b, "--XYZ\r\nContent-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
			p[1], p[0], p[0], base64.StdEncoding.EncodeToString([]byte(p[2])))
	}
	b.WriteString("--XYZ--\r\n")
	return []byte(b.String())
}

// zipOf returns the IHE_XDM.ZIP of a built message, edited by edit.
func editedZip(t *testing.T, edit func(name string, b []byte) []byte) string {
	t.Helper()
	r := parse(t, write(t, reportMessage()))
	a := r.Attachment("IHE_XDM.ZIP")
	require.NotNil(t, a, "the built message has no IHE_XDM.ZIP")
	zr, err := zip.NewReader(bytes.NewReader(a.Data), int64(len(a.Data)))
	require.NoError(t, err)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		b := readEntry(t, f)
		fw, err := zw.Create(f.Name)
		require.NoError(t, err)
		_, err = fw.Write(edit(f.Name, b))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return out.String()
}

func readEntry(t *testing.T, f *zip.File) []byte {
	t.Helper()
	rc, err := f.Open()
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err, f.Name)
	return b
}

const handHeaders = "From: Dr_Marcel_CAMPARINI <marcel.camparini@lilas.mssante.fr>\r\n" +
	"To: secretariat@chu-exemple.mssante.fr\r\n" +
	"Subject: XDM/1.0/DDM+CR de consultation PAT-TROIS DOMINIQUE 28/03/1979\r\n" +
	"Message-ID: <hand.1@lilas.mssante.fr>\r\n" +
	"X-MSS-NIL: DEV000001\r\nX-MSS-CODECDA: 11488-4\r\nX-MSS-INS: O\r\n"

const pdfName = "20261124_CR_ou_fiche_de_consultation_ou_de_visite_PAT-TROIS_DOMINIQUE.pdf"

func rules(ps []mssante.Problem) map[string]bool {
	m := map[string]bool{}
	for _, p := range ps {
		m[p.Rule] = true
	}
	return m
}

func check(t *testing.T, raw []byte) []mssante.Problem {
	t.Helper()
	ps, err := mssante.Check(bytes.NewReader(raw))
	require.NoError(t, err)
	return ps
}

// Messages gomss builds, and a message made by hand correctly, break no
// rule.
func TestCheckPasses(t *testing.T) {
	patientMsg := reportMessage()
	addr, err := patientMsg.Documents[0].Header.Patient.MonEspaceSanteAddress()
	require.NoError(t, err)
	patientMsg.To, patientMsg.EndConversation = []string{addr}, true
	orig := received(t, reportMessage())
	ack, err := mssante.NewMDN(orig, mssante.MDNOptions{From: pfi, Product: "DEV1"})
	require.NoError(t, err)
	var mdn bytes.Buffer
	_, err = ack.WriteTo(&mdn)
	require.NoError(t, err)
	zipData := editedZip(t, func(_ string, b []byte) []byte { return b })
	for name, raw := range map[string][]byte{
		"report":          write(t, reportMessage()),
		"patient":         write(t, patientMsg),
		"no documents":    write(t, &mssante.Message{From: pfi, To: []string{"a@b.mssante.fr"}, Subject: "Bonjour", Text: "x", Product: "P"}),
		"MDN":             mdn.Bytes(),
		"made by another": handMessage(handHeaders, [3]string{"IHE_XDM.zip", "application/zip", zipData}, [3]string{pdfName, "application/pdf", "%PDF-1.4"}),
	} {
		assert.Empty(t, check(t, raw), name)
	}
}

// Every rule has a message that breaks it.
func TestCheckFails(t *testing.T) {
	good := string(write(t, reportMessage()))
	zipData := editedZip(t, func(_ string, b []byte) []byte { return b })
	pdfPart := [3]string{pdfName, "application/pdf", "%PDF-1.4"}
	zipPart := [3]string{"IHE_XDM.ZIP", "application/zip", zipData}
	swap := func(old, new string) []byte {
		require.Contains(t, good, old, "fixture: not in the message")
		return []byte(strings.Replace(good, old, new, 1))
	}
	hand := func(edit func(h string) string, parts ...[3]string) []byte {
		return handMessage(edit(handHeaders), parts...)
	}
	same := func(h string) string { return h }
	patientAddr := "279035121518989@patient.mssante.fr"
	cases := map[string]struct {
		raw  []byte
		rule string
	}{
		"no X-MSS-NIL":        {swap("X-MSS-NIL: DEV935997\r\n", ""), "ECO.2.4.3"},
		"no Message-ID":       {swap("Message-ID: <20261124103000.1@lilas.mssante.fr>", "Message-ID: 12345"), "ECO.2.2.1"},
		"bad In-Reply-To":     {swap("X-MSS-NIL:", "In-Reply-To: pas un identifiant\r\nX-MSS-NIL:"), "ECO.2.2.2"},
		"no label":            {swap("From: Dr_Marcel_CAMPARINI_Cardiologie <", "From: <"), "ECO.2.2.7"},
		"latin-1 text":        {[]byte("From: A <a@b.mssante.fr>\r\nMessage-ID: <x@b>\r\nX-MSS-NIL: P\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nCh\xe8re\r\n"), "ECO.2.2.3"},
		"html body":           {[]byte("From: A <a@b.mssante.fr>\r\nMessage-ID: <x@b>\r\nX-MSS-NIL: P\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>x</p>\r\n"), "ECO.2.2.4"},
		"CODECDA without XDM": {[]byte("From: A <a@b.mssante.fr>\r\nMessage-ID: <x@b>\r\nX-MSS-NIL: P\r\nX-MSS-CODECDA: 11488-4\r\n\r\nx\r\n"), "ECO.2.4.1"},
		"CODECDA wrong":       {swap("X-MSS-CODECDA: 11488-4", "X-MSS-CODECDA: 11490-0"), "ECO.2.4.1"},
		"CODECDA missing":     {swap("X-MSS-CODECDA: 11488-4\r\n", ""), "ECO.2.4.1"},
		"INS without XDM":     {[]byte("From: A <a@b.mssante.fr>\r\nMessage-ID: <x@b>\r\nX-MSS-NIL: P\r\nX-MSS-INS: N\r\n\r\nx\r\n"), "ECO.2.4.2"},
		"INS says N":          {swap("X-MSS-INS: O", "X-MSS-INS: N"), "ECO.2.4.2"},
		"INS value":           {swap("X-MSS-INS: O", "X-MSS-INS: OUI"), "ECO.2.4.2"},
		"INS missing":         {swap("X-MSS-INS: O\r\n", ""), "ECO.2.4.2"},
		"subject":             {swap("Subject: XDM/1.0/DDM+Compte rendu de consultation PAT-TROIS DOMINIQUE\r\n 28/03/1979", "Subject: Compte rendu"), "ECO.2.1.3"},
		"PDF name":            {hand(same, zipPart, [3]string{"rapport.pdf", "application/pdf", "%PDF"}), "ECO.2.1.6"},
		"PDF date":            {hand(same, zipPart, [3]string{"20261399_CR_PAT-TROIS_DOMINIQUE.pdf", "application/pdf", "%PDF"}), "ECO.2.1.6"},
		"no PDF":              {hand(same, zipPart), "ECO.2.1.1"},
		"no close delimiter":  {bytes.TrimSuffix(hand(same, zipPart, pdfPart), []byte("--XYZ--\r\n")), "MIME"},
		"XDM subject without XDM": {hand(func(h string) string {
			return strings.Replace(strings.Replace(h, "X-MSS-CODECDA: 11488-4\r\n", "", 1), "X-MSS-INS: O\r\n", "", 1)
		}, pdfPart), "ECO.2.1.1"},
		"patientId not a valid INS": {hand(same, [3]string{"IHE_XDM.ZIP", "application/zip", editedZip(t, func(n string, b []byte) []byte {
			return bytes.ReplaceAll(b, []byte("279035121518989^^^"), []byte("279035121518988^^^"))
		})}, pdfPart), "ECO.2.1.2"},
		"XDM tampered": {hand(same, [3]string{"IHE_XDM.ZIP", "application/zip", editedZip(t, func(n string, b []byte) []byte {
			if strings.HasSuffix(n, "DOC0001.XML") {
				return bytes.Replace(b, []byte("Compte rendu de consultation"), []byte("Compte rendu modifié!!!!!!!!"), 1)
			}
			return b
		})}, pdfPart), "IHE-XDM"},
		"XDM unreadable":        {hand(same, [3]string{"IHE_XDM.ZIP", "application/zip", "not a zip"}, pdfPart), "IHE-XDM"},
		"patient address key":   {swap("To: <secretariat@chu-exemple.mssante.fr>", "To: <279035121518988@patient.mssante.fr>"), "ECO.2.2.6"},
		"another patient":       {swap("To: <secretariat@chu-exemple.mssante.fr>", "To: <185077505604283@patient.mssante.fr>"), "ECO.2.2.6"},
		"MES value":             {swap("To: <secretariat@chu-exemple.mssante.fr>", "To: <"+patientAddr+">\r\nX-MSS-MES: OUI"), "ECO.2.2.8"},
		"MES to a professional": {swap("X-MSS-NIL:", "X-MSS-MES: FIN\r\nX-MSS-NIL:"), "ECO.2.2.8"},
		"too big for a patient": {bigPatientMessage(), "MES.6"},
		// Reports (more in report_test.go).
		"report with attachments": {handReport("disposition-notification", mdnText, "message/disposition-notification", mdnFields,
			[3]string{"message/rfc822", "", "Subject: x\r\n\r\nx\r\n"}, zipPart), "RFC6522"},
		"DSN without Reporting-MTA": {handReportWith("From: <m@b.example>\r\n", "delivery-status", "x", "message/delivery-status",
			"Arrival-Date: Tue, 24 Nov 2026 10:30:00 +0100\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"), "RFC3464"},
		"MDN without Final-Recipient": {handReport("disposition-notification", mdnText, "message/disposition-notification",
			strings.Replace(mdnFields, "Final-Recipient: rfc822;integration@chu-exemple.mssante.fr\r\n", "", 1)), "RFC8098"},
		"MDN without Original-Message-ID": {handReport("disposition-notification", mdnText, "message/disposition-notification",
			strings.Replace(mdnFields, "Original-Message-ID: <20261124103000.1@lilas.mssante.fr>\r\n", "", 1)), "VT-LPS.MDN"},
	}
	for name, c := range cases {
		ps := check(t, c.raw)
		assert.True(t, rules(ps)[c.rule], "%s: rule %s not reported; got %v", name, c.rule, ps)
	}
	// Every rule of the checker is exercised above.
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.rule] = true
	}
	for r := range mssante.Rules {
		assert.True(t, seen[r], "rule %s has no failing case", r)
	}
}

func bigPatientMessage() []byte {
	h := "From: A <a@b.mssante.fr>\r\nTo: <279035121518989@patient.mssante.fr>\r\nMessage-ID: <x@b>\r\nX-MSS-NIL: P\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
	return append([]byte(h), bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\r\n"), mssante.PatientMaxSize/76+10)...)
}

// An archive whose document entry names another patient than its
// submission set does not say who the patient is: PatientID is nil, the
// reason is in Problems, Check reports ECO.2.1.2. A second archive is
// reported, not silently ignored (found by a review).
func TestArchivePatientConflictAndSecondArchive(t *testing.T) {
	good := editedZip(t, func(_ string, b []byte) []byte { return b })
	other := editedZip(t, func(n string, b []byte) []byte {
		if !strings.HasSuffix(strings.ToUpper(n), "METADATA.XML") {
			return b
		}
		// The submission set's patientId only (its scheme), another INS.
		re := regexp.MustCompile(`(identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"[^>]*value=")[^"]*`)
		out := re.ReplaceAll(b, []byte("${1}185077505604207^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH"))
		require.NotEqual(t, b, out, "the submission set patientId was not found in METADATA.XML")
		return out
	})
	pdf := [3]string{pdfName, "application/pdf", "%PDF-1.4"}
	r := parse(t, handMessage(handHeaders, [3]string{"IHE_XDM.ZIP", "application/zip", good}, pdf))
	require.NotNil(t, r.PatientID, "control: PatientID")
	require.Equal(t, "279035121518989", r.PatientID.ID, "control: PatientID")
	require.Empty(t, r.Problems, "control")
	raw := handMessage(handHeaders, [3]string{"IHE_XDM.ZIP", "application/zip", other}, pdf)
	r = parse(t, raw)
	assert.Nil(t, r.PatientID, "conflicting patients")
	assert.Contains(t, strings.Join(r.Problems, "\n"), "patient unknown", "conflicting patients")
	ps := check(t, raw)
	assert.True(t, rules(ps)["ECO.2.1.2"], "Check: %v", ps)
	raw = handMessage(handHeaders, [3]string{"IHE_XDM.ZIP", "application/zip", good}, [3]string{"IHE_XDM.ZIP", "application/zip", other}, pdf)
	r = parse(t, raw)
	assert.Contains(t, strings.Join(r.Problems, "\n"), "attached 2 times", "two archives")
	ps = check(t, raw)
	assert.True(t, slices.ContainsFunc(ps, func(p mssante.Problem) bool {
		return p.Rule == "ECO.2.1.1" && strings.Contains(p.Detail, "2 archives")
	}), "Check on two archives: %v", ps)
}

// An archive with a second submission set: its documents are not read, and
// that is said (Problems, Check ECO.2.1.1) rather than silently skipped.
func TestArchiveWithTwoSubsets(t *testing.T) {
	good := editedZip(t, func(_ string, b []byte) []byte { return b })
	zr, err := zip.NewReader(strings.NewReader(good), int64(len(good)))
	require.NoError(t, err)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		b := readEntry(t, f)
		names := []string{f.Name}
		if strings.Contains(f.Name, "SUBSET01") {
			names = append(names, strings.Replace(f.Name, "SUBSET01", "SUBSET02", 1))
		}
		for _, n := range names {
			fw, err := zw.Create(n)
			require.NoError(t, err)
			_, err = fw.Write(b)
			require.NoError(t, err)
		}
	}
	require.NoError(t, zw.Close())
	raw := handMessage(handHeaders, [3]string{"IHE_XDM.ZIP", "application/zip", out.String()}, [3]string{pdfName, "application/pdf", "%PDF-1.4"})
	r := parse(t, raw)
	require.NotNil(t, r.XDM, "XDM: %v", r.XDMErr)
	require.Contains(t, strings.Join(r.Problems, "\n"), "SUBSET02")
	ps := check(t, raw)
	assert.True(t, slices.ContainsFunc(ps, func(p mssante.Problem) bool {
		return p.Rule == "ECO.2.1.1" && strings.Contains(p.Detail, "2 submission sets")
	}), "Check: %v", ps)
}
