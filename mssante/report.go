// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/emersion/go-message/textproto"

	"github.com/ecdaf744/gomss/mssante/xdm"
)

// ReportType is the report-type parameter of a multipart/report (RFC 6522
// §3): the media subtype of its machine-readable second part.
type ReportType string

// The report types of acknowledgements. The global forms are those of
// internationalised reports (RFC 6533), whose machine part may carry
// UTF-8: their report-type is the subtype of that part, as RFC 6522 §3
// has it (report-type=global-delivery-status with a
// message/global-delivery-status part).
const (
	// ReportDeliveryStatus: a DSN (RFC 3464), the "accusé de réception
	// MSSanté", written by a mail server.
	ReportDeliveryStatus ReportType = "delivery-status"
	// ReportDispositionNotification: an MDN (RFC 8098), the "accusé de
	// lecture MSSanté", written by the recipient's software.
	ReportDispositionNotification ReportType = "disposition-notification"
	// ReportGlobalDeliveryStatus: a DSN with a
	// message/global-delivery-status part (RFC 6533).
	ReportGlobalDeliveryStatus ReportType = "global-delivery-status"
	// ReportGlobalDispositionNotification: an MDN with a
	// message/global-disposition-notification part (RFC 6533).
	ReportGlobalDispositionNotification ReportType = "global-disposition-notification"
)

// MachineType is the media type of the report's machine-readable part:
// "message/" followed by the report type (RFC 6522 §3).
func (t ReportType) MachineType() string { return "message/" + string(t) }

// MessageKind tells a message written by a client from a report, and a
// report written by a mail server from one written by the recipient's
// software.
type MessageKind int

// The kinds of received messages.
const (
	// KindMessage: any message that is not a multipart/report (with or
	// without documents), written by a client: the Ref#2 rules apply.
	KindMessage MessageKind = iota
	// KindDSN: a delivery status notification (RFC 3464). DSNs are
	// issued by mail transfer agents (RFC 3461, RFC 3464 §1), here the
	// operators' servers: the Ref#2 rules for clients (X-MSS-NIL, sender
	// label…) do not apply to them.
	KindDSN
	// KindMDN: a message disposition notification (RFC 8098), written by
	// the recipient's user agent or gateway (RFC 8098 abstract), here
	// its client or integration platform: the Ref#2 rules apply to it, with those of the ANS volet
	// "Transmission au LPS d'un document CDA provenant d'un courriel
	// MSSanté" (struct-msg-mdn) for acknowledgements.
	KindMDN
	// KindReport: another multipart/report (a report type this package
	// does not know): only RFC 6522 is checked.
	KindReport
)

func (k MessageKind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindDSN:
		return "DSN"
	case KindMDN:
		return "MDN"
	case KindReport:
		return "report"
	}
	return fmt.Sprintf("MessageKind(%d)", int(k))
}

// IsReport reports whether the kind is a multipart/report.
func (k MessageKind) IsReport() bool { return k != KindMessage }

// ServerGenerated reports whether messages of this kind are written by a
// mail server rather than a client: true for DSNs only. A receiving
// application uses it to tell an operator's report from a non-compliant
// message (Check does not hold a DSN to the rules of client messages).
func (k MessageKind) ServerGenerated() bool { return k == KindDSN }

// Kind returns what the message is. A multipart/report without a
// report-type parameter is classified by its second part's type.
func (m *Received) Kind() MessageKind {
	if m.ContentType != "multipart/report" {
		return KindMessage
	}
	rt := m.ReportType
	if rt == "" && len(m.reportParts) > 1 {
		rt = ReportType(strings.TrimPrefix(m.reportParts[1].mediaType, "message/"))
	}
	switch rt {
	case ReportDeliveryStatus, ReportGlobalDeliveryStatus:
		return KindDSN
	case ReportDispositionNotification, ReportGlobalDispositionNotification:
		return KindMDN
	}
	return KindReport
}

// returnedTypes are the types of the optional third part of a DSN or an
// MDN: the original message or only its header (RFC 3464 §2, RFC 8098
// §3, and their internationalised forms of RFC 6533).
var returnedTypes = map[string]bool{
	"message/rfc822": true, "text/rfc822-headers": true,
	"message/global": true, "message/global-headers": true,
}

var (
	reDSNStatus = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}$`) // RFC 3464 §2.3.4, RFC 3463 §2
	dsnActions  = map[string]bool{"failed": true, "delayed": true, "delivered": true, "relayed": true, "expanded": true}
)

// checkReport lints a multipart/report by the rules that apply to it:
// its structure (RFC 6522 §3) for every report; the fields of its
// machine part for a DSN (RFC 3464) and an MDN (RFC 8098); for an MDN,
// which a client sends, the Ref#2 rules of every sent message and those
// of the ANS volet on acknowledgements.
func (m *Received) checkReport(add func(rule, field, format string, args ...any)) {
	kind := m.Kind()
	m.checkReportStructure(add, kind)
	switch kind {
	case KindDSN:
		m.checkDSNFields(add)
	case KindMDN:
		// Ref#2 for every message a client sends (ECO.2.2.x, ECO.2.4.3);
		// the body is the multipart/report RFC 8098 requires, not the
		// text/plain or multipart/alternative of ECO.2.2.4.
		m.checkCommon(add)
		m.checkCharset(add)
		// ECO.2.4.1/ECO.2.4.2: no X-MSS-CODECDA/X-MSS-INS on a message
		// without IHE_XDM.ZIP; an archive attached to the report itself
		// (beside the returned original, not inside it) needs them as
		// on any message, which is how an independent Ref#2 checker
		// reads it.
		if m.Attachment(xdm.ArchiveName) != nil {
			if !m.MSS.Present[HeaderCodeCDA] {
				add("ECO.2.4.1", HeaderCodeCDA, "missing on a message with %s attached", xdm.ArchiveName)
			}
			if !m.MSS.Present[HeaderINS] {
				add("ECO.2.4.2", HeaderINS, "missing on a message with %s attached", xdm.ArchiveName)
			}
		} else {
			m.checkNoDocumentHeaders(add, "an acknowledgement")
		}
		m.checkPatient(add)
		m.checkMDNFields(add)
	}
}

// checkReportStructure applies RFC 6522 §3: two or three parts, in this
// order: a human-readable part, the machine-readable part whose type is
// message/<report-type>, optionally the returned message or its header.
// Anything else (documents attached again, above all) is a problem.
func (m *Received) checkReportStructure(add func(rule, field, format string, args ...any), kind MessageKind) {
	if m.ReportType == "" {
		add("RFC6522", "Content-Type", "multipart/report without its report-type parameter")
	}
	parts := m.reportParts
	if n := len(parts); n < 2 || n > 3 {
		var types []string
		for _, p := range parts {
			types = append(types, p.mediaType)
		}
		add("RFC6522", "multipart/report", "%d parts (%s), want 2 or 3: the human-readable text, the machine-readable report, optionally the returned message or its header",
			n, strings.Join(types, ", "))
	}
	for i, p := range parts {
		switch {
		case i == 0:
			if !strings.HasPrefix(p.mediaType, "text/") && p.mediaType != "multipart/alternative" {
				add("RFC6522", partLabel(i, p), "%s, want the human-readable text (text/plain)", p.mediaType)
			}
		case i == 1:
			if m.ReportType != "" && p.mediaType != m.ReportType.MachineType() {
				add("RFC6522", "part 2", "%s, want %s (the report-type)", p.mediaType, m.ReportType.MachineType())
			}
			// RFC 3464 §2.1 and RFC 8098 §3.1: "7bit" encoding MUST be
			// used for message/delivery-status and
			// message/disposition-notification (their global forms may
			// be encoded, RFC 6533).
			rule := map[string]string{ReportDeliveryStatus.MachineType(): "RFC3464", ReportDispositionNotification.MachineType(): "RFC8098"}[p.mediaType]
			if rule != "" && p.encoding != "" && p.encoding != "7bit" {
				add(rule, "part 2", "%s in %s, want 7bit", p.mediaType, p.encoding)
			}
		case i == 2 && (kind == KindDSN || kind == KindMDN) && !returnedTypes[p.mediaType]:
			add("RFC6522", partLabel(i, p), "%s, want the returned message (message/rfc822) or its header (text/rfc822-headers)", p.mediaType)
		case i >= 3:
			add("RFC6522", partLabel(i, p), "%s attached to a report: a report has no part after the returned message, whose attachments travel inside it", p.mediaType)
		}
	}
}

func partLabel(i int, p reportPart) string {
	if p.name != "" {
		return fmt.Sprintf("part %d %s", i+1, p.name)
	}
	return fmt.Sprintf("part %d", i+1)
}

// checkDSNFields applies RFC 3464 §2.2–2.3 to the delivery-status part:
// Reporting-MTA in the per-message fields, then for each recipient
// Final-Recipient, Action and Status.
func (m *Received) checkDSNFields(add func(rule, field, format string, args ...any)) {
	part := m.report(ReportDeliveryStatus.MachineType(), ReportGlobalDeliveryStatus.MachineType())
	if part == nil {
		add("RFC3464", "message/delivery-status", "missing: a DSN carries its machine-readable part")
		return
	}
	blocks, err := fieldBlocks(part.Data)
	if err != nil || len(blocks) == 0 {
		add("RFC3464", part.ContentType, "unreadable fields: %w", err)
		return
	}
	if strings.TrimSpace(blocks[0].Get("Reporting-Mta")) == "" {
		add("RFC3464", "Reporting-MTA", "missing from the per-message fields (§2.2.2)")
	}
	if len(blocks) < 2 {
		add("RFC3464", part.ContentType, "no per-recipient fields (§2.3)")
	}
	for i, b := range blocks[1:] {
		field := func(name string) string { return fmt.Sprintf("recipient %d %s", i+1, name) }
		if !validTypedAddress(b.Get("Final-Recipient")) {
			add("RFC3464", field("Final-Recipient"), "%q, want <address-type>;<address> (§2.3.2)", b.Get("Final-Recipient"))
		}
		if a := strings.ToLower(strings.TrimSpace(b.Get("Action"))); !dsnActions[a] {
			add("RFC3464", field("Action"), "%q, want failed, delayed, delivered, relayed or expanded (§2.3.3)", b.Get("Action"))
		}
		if s := strings.TrimSpace(b.Get("Status")); !reDSNStatus.MatchString(s) {
			add("RFC3464", field("Status"), "%q, want class.subject.detail (§2.3.4)", s)
		}
	}
}

// checkMDNFields applies RFC 8098 to the disposition-notification part
// and, to an MDN that reports an integration (disposition "processed",
// an error, or a KO subject), the ANS volet (struct-msg-mdn): the fields
// it requires besides Final-Recipient and Disposition
// (Original-Message-ID, Original-Recipient), the original message as
// third part, the subject (the original's, or "[KO Intégration système
// !][<code>] " then the original's for an error) and, for an error, its
// code and label in the human text. A read receipt of another kind
// ("displayed" by a personal mailbox) is held to RFC 8098 only.
func (m *Received) checkMDNFields(add func(rule, field, format string, args ...any)) {
	part := m.report(ReportDispositionNotification.MachineType(), ReportGlobalDispositionNotification.MachineType())
	if part == nil {
		add("RFC8098", "message/disposition-notification", "missing: an MDN carries its machine-readable part")
		return
	}
	if part.ContentType == ReportDispositionNotification.MachineType() {
		for i, c := range part.Data {
			if c >= 0x80 {
				add("RFC8098", part.ContentType, "non-ASCII byte at offset %d: the part is US-ASCII (UTF-8 needs message/global-disposition-notification, RFC 6533)", i)
				break
			}
		}
	}
	blocks, err := fieldBlocks(part.Data)
	if err != nil || len(blocks) == 0 {
		add("RFC8098", part.ContentType, "unreadable fields: %w", err)
		return
	}
	f := blocks[0]
	if f.Has("Reporting-Ua") {
		if name, _, _ := strings.Cut(f.Get("Reporting-Ua"), ";"); strings.TrimSpace(name) == "" {
			add("RFC8098", "Reporting-UA", "%q: no ua-name (§3.2.1)", f.Get("Reporting-Ua"))
		}
	}
	if !validTypedAddress(f.Get("Final-Recipient")) {
		add("RFC8098", "Final-Recipient", "%q, want <address-type>;<address> (§3.2.4, required)", f.Get("Final-Recipient"))
	}
	if f.Has("Original-Recipient") && !validTypedAddress(f.Get("Original-Recipient")) {
		add("RFC8098", "Original-Recipient", "%q, want <address-type>;<address> (§3.2.3)", f.Get("Original-Recipient"))
	}
	origID := strings.TrimSpace(f.Get("Original-Message-Id"))
	if f.Has("Original-Message-Id") && !reMsgID.MatchString(origID) {
		add("RFC8098", "Original-Message-ID", "%q is not a msg-id <left@right> (§3.2.5)", origID)
	}
	disp, derr := parseDisposition(f.Get("Disposition"))
	if derr != "" {
		add("RFC8098", "Disposition", "%q: %s (§3.2.6)", f.Get("Disposition"), derr)
	}

	// The original, when returned (third part), says what the MDN must
	// refer to, where it goes, and what its subject is.
	var orig textproto.Header
	var origType string
	if p := m.report("message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"); p != nil {
		if h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(p.Data))); err == nil || h.Len() > 0 {
			orig, origType = h, p.ContentType
		}
	}
	if origType != "" {
		// RFC 8098 §3.2.5: Original-Message-ID is there if and only if
		// the original had a Message-ID, and is that Message-ID.
		want := NormalizeMessageID(orig.Get("Message-Id"))
		switch {
		case want != "" && !f.Has("Original-Message-Id"):
			add("RFC8098", "Original-Message-ID", "missing, but the returned message has Message-ID %s (§3.2.5)", want)
		case want != "" && reMsgID.MatchString(origID) && want != origID:
			add("RFC8098", "Original-Message-ID", "%s, but the returned message is %s (§3.2.5)", origID, want)
		}
		// RFC 8098 §2.1: the MDN goes to the Disposition-Notification-To
		// address(es) of the original.
		if dnt := orig.Get("Disposition-Notification-To"); dnt != "" {
			to := map[string]bool{}
			for _, a := range m.To {
				to[strings.ToLower(a.Address)] = true
			}
			as, _ := parseAddressList(dnt)
			for _, a := range as {
				if !to[strings.ToLower(a.Address)] {
					add("RFC8098", "To", "the original asked for the MDN at %s (Disposition-Notification-To, §2.1)", a.Address)
				}
			}
		}
	}

	// The ANS volet, for an MDN on an integration.
	hasKO := strings.Contains(m.Subject, KOPrefix)
	if derr != "" || (disp.typ != "processed" && disp.err == nil && !hasKO) {
		return
	}
	if !f.Has("Original-Message-Id") {
		add("VT-LPS.MDN", "Original-Message-ID", "missing: the volet requires it to match the MDN to the message (struct-msg-mdn, deuxième partie)")
	}
	if !f.Has("Original-Recipient") {
		add("VT-LPS.MDN", "Original-Recipient", "missing: the volet requires it (struct-msg-mdn, deuxième partie)")
	}
	switch origType {
	case "message/rfc822", "message/global":
	case "":
		add("VT-LPS.MDN", "part 3", "no original message: the volet requires it as third part (struct-msg-mdn: message/rfc822 \"requise par le présent volet\")")
	default:
		add("VT-LPS.MDN", "part 3", "%s: the volet requires the whole original message (struct-msg-mdn: message/rfc822 \"requise par le présent volet\")", origType)
	}
	subjectDone := false // one problem per subject
	var code int
	if disp.err != nil {
		code = disp.err.Code
		if code == 0 {
			add("VT-LPS.MDN", "Disposition", "an error without its code: want processed/Error: <code>^<libellé> (struct-msg-mdn)")
			subjectDone = true // what subject it needs is unknown
		} else {
			switch got := IntegrationCodeFromSubject(m.Subject); {
			case got == 0:
				add("VT-LPS.MDN", "Subject", "%q: an integration error %d needs the subject %s[%d] <original subject>", m.Subject, code, KOPrefix, code)
				subjectDone = true
			case got != code:
				add("VT-LPS.MDN", "Subject", "code %d in the subject, %d in the Disposition", got, code)
				subjectDone = true
			}
			text := strings.ToLower(foldASCII(m.Text))
			if !strings.Contains(text, strconv.Itoa(code)) ||
				(disp.err.Label != "" && !strings.Contains(text, strings.ToLower(foldASCII(disp.err.Label)))) {
				add("VT-LPS.MDN", "text", "the human-readable part must give the error code %d and its label %q (struct-msg-mdn, première partie)", code, disp.err.Label)
			}
		}
	} else if hasKO {
		add("VT-LPS.MDN", "Subject", "%q: a KO subject on an MDN whose Disposition carries no error", m.Subject)
		subjectDone = true
	}
	// The subject is the original's (success) or the KO prefix then the
	// original's (failure), for an MDN on a document message.
	if origType != "" && !subjectDone {
		origSubject, err := wordDecoder.DecodeHeader(orig.Get("Subject"))
		if err == nil && IsDocumentSubject(origSubject) {
			want := origSubject
			if code != 0 {
				want = KOSubject(code, origSubject)
			}
			if strings.Join(strings.Fields(m.Subject), " ") != strings.Join(strings.Fields(want), " ") {
				add("VT-LPS.MDN", "Subject", "%q, want %q (struct-msg-mdn, objet du MDN)", m.Subject, want)
			}
		}
	}
}

// validTypedAddress reports whether v is "<address-type>;<address>"
// (RFC 3464 §2.1.2, RFC 8098 §3.2.3).
func validTypedAddress(v string) bool {
	typ, addr, ok := strings.Cut(v, ";")
	return ok && strings.TrimSpace(typ) != "" && !strings.ContainsAny(strings.TrimSpace(typ), " \t@") && strings.TrimSpace(addr) != ""
}

// disposition is a parsed Disposition field (RFC 8098 §3.2.6).
type disposition struct {
	actionMode, sendingMode, typ string
	err                          *IntegrationError
	modifiers                    []string
}

// parseDisposition reads a Disposition field value. The ANS form of an
// error ("processed/Error: <code>^<libellé>[^…]", struct-msg-mdn) is
// accepted as a modifier. It returns, besides what it could read, what
// does not follow RFC 8098 ("" when the value does).
func parseDisposition(v string) (disposition, string) {
	var d disposition
	v = strings.TrimSpace(v)
	if v == "" {
		return d, "missing (required)"
	}
	modes, typ, ok := strings.Cut(v, ";")
	d.actionMode, d.sendingMode, _ = strings.Cut(strings.TrimSpace(modes), "/")
	d.actionMode, d.sendingMode = strings.TrimSpace(d.actionMode), strings.TrimSpace(d.sendingMode)
	t, mods, _ := strings.Cut(strings.TrimSpace(typ), "/")
	d.typ = strings.ToLower(strings.TrimSpace(t))
	for _, mod := range strings.Split(mods, ",") {
		mod = strings.TrimSpace(mod)
		if mod == "" {
			continue
		}
		if name, val, ok := strings.Cut(mod, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "error") {
			code, label, _ := strings.Cut(strings.TrimSpace(val), "^")
			label, _, _ = strings.Cut(label, "^")
			n, _ := strconv.Atoi(strings.TrimSpace(code))
			d.err = &IntegrationError{Code: n, Label: strings.TrimSpace(label)}
			continue
		}
		if strings.EqualFold(mod, "error") {
			d.err = &IntegrationError{}
			continue
		}
		d.modifiers = append(d.modifiers, mod)
	}
	switch {
	case !ok:
		return d, "no ';' between the disposition mode and type"
	case !strings.EqualFold(d.actionMode, "automatic-action") && !strings.EqualFold(d.actionMode, "manual-action"):
		return d, fmt.Sprintf("action mode %q, want automatic-action or manual-action", d.actionMode)
	case !strings.EqualFold(d.sendingMode, "MDN-sent-automatically") && !strings.EqualFold(d.sendingMode, "MDN-sent-manually"):
		return d, fmt.Sprintf("sending mode %q, want MDN-sent-automatically or MDN-sent-manually", d.sendingMode)
	}
	switch d.typ {
	case "displayed", "deleted", "dispatched", "processed":
	default:
		return d, fmt.Sprintf("disposition type %q, want displayed, deleted, dispatched or processed", d.typ)
	}
	return d, ""
}
