// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"
	"unicode"

	"github.com/emersion/go-message/textproto"
	"golang.org/x/text/unicode/norm"
)

// IntegrationError is the outcome a receiving system reports when it could
// not integrate a document (ANS volet "Transmission au LPS d'un document
// CDA provenant d'un courriel MSSanté", table applicationErrorCondition,
// codes 900–906). It is an error, so an integration handler can return it.
type IntegrationError struct {
	Code  int
	Label string
}

func (e IntegrationError) Error() string {
	return fmt.Sprintf("mssante: integration error %d: %s", e.Code, e.Label)
}

// The integration errors of the ANS table, with its labels.
var (
	IntegrationWrongVersion   = IntegrationError{900, "Version du document incorrecte lors d'une demande de remplacement/suppression"}
	IntegrationAuthorRefused  = IntegrationError{901, "Auteur non autorisé à remplacer ou supprimer un document"}
	IntegrationPatientUnknown = IntegrationError{902, "Identifiant patient inconnu"}
	IntegrationINSAbsent      = IntegrationError{903, "INS non présent dans le document"}
	IntegrationINSMismatch    = IntegrationError{904, "L'INS transmis ne correspond pas exactement à celui stocké dans la base du consommateur"}
	IntegrationINSIncomplete  = IntegrationError{905, "L'INS transmis n'est pas complet"}
	IntegrationOther          = IntegrationError{906, "Erreur 'Autre'"}
)

// IntegrationErrorFor returns the table's error for code.
func IntegrationErrorFor(code int) (IntegrationError, bool) {
	for _, e := range []IntegrationError{IntegrationWrongVersion, IntegrationAuthorRefused, IntegrationPatientUnknown,
		IntegrationINSAbsent, IntegrationINSMismatch, IntegrationINSIncomplete, IntegrationOther} {
		if e.Code == code {
			return e, true
		}
	}
	return IntegrationError{}, false
}

// KOPrefix starts the subject of a failure acknowledgement:
// "[KO Intégration système !][<code>] " then the original subject.
const KOPrefix = "[KO Intégration système !]"

// KOSubject returns the subject of a failure MDN or error e-mail.
func KOSubject(code int, original string) string {
	return fmt.Sprintf("%s[%d] %s", KOPrefix, code, original)
}

// Errors of NewMDN: when an MDN must not be sent.
var (
	// ErrNoMDNRequested: the message has no Disposition-Notification-To.
	ErrNoMDNRequested = errors.New("mssante: no read receipt was requested (no Disposition-Notification-To)")
	// ErrMDNNeedsConfirmation: Disposition-Notification-To differs from
	// Return-Path (or Return-Path is missing): RFC 8098 §2.1 forbids an
	// automatic MDN; the user must confirm (MDNOptions.Confirmed).
	ErrMDNNeedsConfirmation = errors.New("mssante: Disposition-Notification-To differs from Return-Path: the MDN needs the user's confirmation")
	// ErrMDNToReport: never an MDN in answer to an MDN or a DSN.
	ErrMDNToReport = errors.New("mssante: no MDN in answer to a report (MDN or DSN)")
)

// MDNOptions describe the acknowledgement to send.
type MDNOptions struct {
	// From is the mailbox that received the message and sends the MDN
	// (its address is the Final-Recipient).
	From Sender
	// Error is nil for a success, else the integration error.
	Error *IntegrationError
	// Manual reports a manual action sent manually (manual-action/
	// MDN-sent-manually) instead of the automatic processing of an
	// applicative BAL.
	Manual bool
	// Confirmed allows an MDN although Disposition-Notification-To
	// differs from Return-Path: the user confirmed it.
	Confirmed bool
	// Product is the X-MSS-NIL reference (every message sent carries it).
	Product string
	// Date and MessageID are generated when empty; MessageID is given
	// with or without its angle brackets (NormalizeMessageID).
	Date      time.Time
	MessageID string
}

// Ack is an acknowledgement to send: an MDN (multipart/report,
// RFC 8098 as profiled by the ANS volet) or the standard error e-mail sent
// to an error mailbox when no MDN was requested.
//
// An MDN has exactly the three parts of RFC 6522 §3 and RFC 8098 §3: the
// human text, the message/disposition-notification fields, and the
// original message as received (message/rfc822), whose IHE_XDM.ZIP and
// PDF travel back inside it. RFC 8098 lets the third part be the original
// or only its header (text/rfc822-headers), or be left out; the ANS volet
// decides for the whole original: its table of parts makes message/rfc822
// "optionnelle pour la RFC 6522, requise par le présent volet", so that
// the sending platform can identify the document and submit it again
// after correction, and asks for the original's attachments to be given
// back (struct-msg-mdn, "Structure du corps du MDN", "Troisième partie").
// The returned original gives them back; nothing is attached beside it.
// The volet's example does show IHE_XDM.zip and the PDF again after the
// original, but it is marked illustrative, not normative ("Exemple d'un
// MDN"); attached again they would make five parts where RFC 6522 has
// two or three, double the size of the MDN, and make it a message
// carrying IHE_XDM.ZIP without X-MSS-CODECDA and X-MSS-INS, which Ref#2
// ECO.2.4.1/ECO.2.4.2 forbid. So an MDN is the original's size plus a
// bounded overhead (1 to 2 KB: headers, text and fields).
//
// The error e-mail (multipart/mixed, volet struct-email-standard) is not
// a report: it carries the original as message_original.eml and its
// attachments beside it, as that page asks.
type Ack struct {
	To        string
	Subject   string
	MessageID string
	Date      time.Time
	// Disposition is the MDN Disposition field ("" for an error e-mail).
	Disposition string
	text        string
	from        Sender
	product     string
	orig        *Received
	mdn         bool
	origRcpt    string
}

// NewMDN prepares the MDN of a received message, applying the rules of
// RFC 8098 and the ANS volet: only when Disposition-Notification-To is
// present, not automatically when it differs from Return-Path, never to a
// report. Success: "Disposition: automatic-action/MDN-sent-automatically;
// processed" and the original subject; failure: "processed/Error:
// <code>^<libellé>" and KOSubject.
func NewMDN(orig *Received, o MDNOptions) (*Ack, error) {
	if orig.Kind().IsReport() {
		return nil, ErrMDNToReport
	}
	if len(orig.DispositionNotificationTo) == 0 {
		return nil, ErrNoMDNRequested
	}
	to := orig.DispositionNotificationTo[0].Address
	if !o.Confirmed {
		// Every address asked for must be the Return-Path: a second,
		// different one needs the user's confirmation too (RFC 8098 §2.1).
		for _, d := range orig.DispositionNotificationTo {
			if !strings.EqualFold(d.Address, orig.ReturnPath) {
				return nil, ErrMDNNeedsConfirmation
			}
		}
	}
	if err := CheckAddress(to); err != nil {
		return nil, err
	}
	a := newAck(orig, o.From, o.Product, to, o.Date, o.MessageID)
	a.mdn = true
	mode := "automatic-action/MDN-sent-automatically"
	if o.Manual {
		mode = "manual-action/MDN-sent-manually"
	}
	a.Disposition = mode + "; processed"
	a.Subject = orig.Subject
	if o.Error != nil {
		// The disposition-notification part is 7bit US-ASCII (RFC 8098
		// §3.1): the label is written without its accents there; the text
		// part keeps it whole.
		a.Disposition += fmt.Sprintf("/Error: %d^%s", o.Error.Code, foldASCII(o.Error.Label))
		a.Subject = KOSubject(o.Error.Code, orig.Subject)
		a.text = fmt.Sprintf("Le message ci-dessous n'a pas pu être intégré automatiquement dans le logiciel du destinataire pour la raison suivante : %d %s.\n", o.Error.Code, o.Error.Label)
	} else {
		a.text = "Le message ci-dessous a été intégré dans le logiciel du destinataire.\n"
	}
	a.text += fmt.Sprintf("\nMessage : %s\nObjet : %s\n", orig.MessageID, orig.Subject)
	a.origRcpt = orig.Header.Get("Original-Recipient")
	return a, nil
}

// NewErrorMail prepares the standard e-mail that reports an integration
// error to an error mailbox when no MDN was requested (ANS volet,
// "courriel standard"): KOSubject, a human text with the code and label,
// the original message as message_original.eml and its attachments.
func NewErrorMail(orig *Received, from Sender, to string, e IntegrationError, product string) (*Ack, error) {
	if err := CheckAddress(to); err != nil {
		return nil, err
	}
	a := newAck(orig, from, product, to, time.Time{}, "")
	a.Subject = KOSubject(e.Code, orig.Subject)
	a.text = fmt.Sprintf("Bonjour,\n\nLe document envoyé n'a pas pu être intégré correctement dans le système.\n\n- Erreur détectée : %s\n- Code d'erreur : %d\n\nVous trouverez en pièce jointe le message original et ses pièces jointes.\n", e.Label, e.Code)
	return a, nil
}

func newAck(orig *Received, from Sender, product, to string, date time.Time, id string) *Ack {
	if date.IsZero() {
		date = time.Now()
	}
	if id = NormalizeMessageID(id); id == "" {
		id = NewMessageID(Domain(from.Address))
	}
	return &Ack{To: to, MessageID: id, Date: date, from: from, product: product, orig: orig}
}

// Envelope returns the SMTP envelope: an MDN is sent with a null return
// path (MAIL FROM:<>, RFC 8098 §3) so that it never causes a report.
func (a *Ack) Envelope() Envelope {
	from := a.from.Address
	if a.mdn {
		from = ""
	}
	return Envelope{From: from, Recipients: []string{a.To}}
}

// WriteTo writes the acknowledgement.
func (a *Ack) WriteTo(w io.Writer) (int64, error) {
	var ps []Problem
	ps = append(ps, a.from.validate()...)
	if strings.TrimSpace(a.product) == "" {
		ps = append(ps, Problem{Rule: "ECO.2.4.3", Field: HeaderNIL, Detail: "the product reference is required on every message"})
	}
	if !validMsgID(a.MessageID) {
		ps = append(ps, Problem{Rule: "RFC5322", Field: "Message-ID", Detail: fmt.Sprintf("%q is not a message id <left@right>", a.MessageID)})
	}
	if len(ps) > 0 {
		return 0, invalid(ps)
	}
	cw := &limitWriter{w: w}
	err := a.write(cw)
	return cw.n, err
}

func (a *Ack) write(w io.Writer) error {
	h := newFields()
	h.address("From", a.from.Label(), a.from.Address)
	h.address("To", "", a.To)
	h.text("Subject", a.Subject)
	h.raw("Date", a.Date.Format(time.RFC1123Z))
	h.raw("Message-ID", a.MessageID)
	if validMsgID(a.orig.MessageID) {
		h.raw("In-Reply-To", a.orig.MessageID)
		h.raw("References", a.orig.MessageID)
	}
	h.raw(HeaderNIL, oneLine(a.product))
	h.raw("MIME-Version", "1.0")
	if a.mdn {
		h.multipart("multipart/report", map[string]string{"report-type": string(ReportDispositionNotification)})
	} else {
		h.multipart("multipart/mixed", nil)
	}
	mw, err := createMIME(w, h)
	if err != nil {
		return err
	}
	if err := writeText(mw, "text/plain", a.text); err != nil {
		return err
	}
	if a.mdn {
		ph := newFields()
		ph.raw("Content-Type", ReportDispositionNotification.MachineType())
		pw, err := mw.part(ph, enc7bit)
		if err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Reporting-UA: %s; gomss\r\n", Domain(a.from.Address))
		if r := strings.TrimSpace(a.origRcpt); r != "" {
			if !strings.Contains(r, ";") {
				r = "rfc822;" + r
			}
			fmt.Fprintf(&b, "Original-Recipient: %s\r\n", r)
		} else {
			fmt.Fprintf(&b, "Original-Recipient: rfc822;%s\r\n", a.from.Address)
		}
		fmt.Fprintf(&b, "Final-Recipient: rfc822;%s\r\n", a.from.Address)
		if a.orig.MessageID != "" {
			fmt.Fprintf(&b, "Original-Message-ID: %s\r\n", a.orig.MessageID)
		}
		fmt.Fprintf(&b, "Disposition: %s\r\n", a.Disposition)
		if _, err := io.WriteString(pw, b.String()); err != nil {
			return err
		}
		if err := pw.Close(); err != nil {
			return err
		}
	}
	// The original message, as received (message/rfc822 is never
	// base64-encoded: RFC 2046 §5.2.1).
	oh := newFields()
	oh.raw("Content-Type", "message/rfc822")
	if !a.mdn {
		oh.raw("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "message_original.eml"}))
	}
	enc := enc7bit
	for _, c := range a.orig.Raw {
		if c >= 0x80 {
			enc = "8bit" // raw UTF-8 in the original (seen in the wild)
			break
		}
	}
	pw, err := mw.part(oh, enc)
	if err != nil {
		return err
	}
	if _, err := pw.Write(a.orig.Raw); err != nil {
		return err
	}
	if err := pw.Close(); err != nil {
		return err
	}
	if a.mdn {
		// RFC 6522 §3: nothing after the returned message; its
		// attachments are inside it.
		return mw.Close()
	}
	// The error e-mail: the original attachments (IHE_XDM.ZIP and the
	// PDF) beside the original (volet struct-email-standard).
	for _, att := range a.orig.Attachments {
		if att.Name == "" {
			continue
		}
		ct := att.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if err := attach(mw, att.Name, ct, BytesOpener(att.Data)); err != nil {
			return err
		}
	}
	return mw.Close()
}

// MDNReport is a parsed message disposition notification.
type MDNReport struct {
	ReportingUA       string
	OriginalRecipient string
	FinalRecipient    string
	// OriginalMessageID is in the <left@right> form of Message.MessageID
	// (NormalizeMessageID).
	OriginalMessageID string
	// ActionMode is automatic-action or manual-action; SendingMode
	// MDN-sent-automatically or MDN-sent-manually; Type displayed,
	// dispatched, processed or deleted.
	ActionMode, SendingMode, Type string
	// Error is set for "processed/Error: <code>^<libellé>" (the label as
	// written; Code 0 when the code is not a number).
	Error *IntegrationError
	// Modifiers lists other modifiers after the slash.
	Modifiers []string
}

// Success reports whether the disposition carries no error.
func (r *MDNReport) Success() bool { return r.Error == nil && r.Type != "deleted" }

// ErrNotReport is returned by ParseMDN and ParseDSN for a message that is
// not the report asked for.
var ErrNotReport = errors.New("mssante: not a report of this kind")

// ParseMDN reads the message/disposition-notification part of a received
// MDN (RFC 8098). It accepts the variants of the ANS example (no space
// after "Disposition:", error label followed by more HL7 components).
func ParseMDN(m *Received) (*MDNReport, error) {
	part := m.report(ReportDispositionNotification.MachineType(), ReportGlobalDispositionNotification.MachineType())
	if part == nil {
		return nil, ErrNotReport
	}
	blocks, err := fieldBlocks(part.Data)
	if err != nil || len(blocks) == 0 {
		return nil, fmt.Errorf("%w: disposition-notification fields: %v", ErrParse, err)
	}
	f := blocks[0]
	r := &MDNReport{
		ReportingUA:       f.Get("Reporting-Ua"),
		OriginalRecipient: stripAddrType(f.Get("Original-Recipient")),
		FinalRecipient:    stripAddrType(f.Get("Final-Recipient")),
		OriginalMessageID: NormalizeMessageID(f.Get("Original-Message-Id")),
	}
	disp := strings.TrimSpace(f.Get("Disposition"))
	if disp == "" || r.FinalRecipient == "" {
		return r, fmt.Errorf("%w: an MDN needs Disposition and Final-Recipient", ErrParse)
	}
	// Read tolerantly: what does not follow RFC 8098 is Check's to say.
	d, _ := parseDisposition(disp)
	r.ActionMode, r.SendingMode, r.Type = d.actionMode, d.sendingMode, d.typ
	r.Error, r.Modifiers = d.err, d.modifiers
	return r, nil
}

// IntegrationCodeFromSubject returns the code of a KO subject
// ("[KO Intégration système !][902] …", as KOSubject writes it), 0 when
// there is none: no KOPrefix, or brackets after it that do not hold a
// code of 1 to 9 decimal digits (no sign, no space). The code is returned
// even when it is not in the ANS table (IntegrationErrorFor says whether
// it is): it is always positive.
func IntegrationCodeFromSubject(subject string) int {
	i := strings.Index(subject, KOPrefix+"[")
	if i < 0 {
		return 0
	}
	rest := subject[i+len(KOPrefix)+1:]
	end := strings.IndexByte(rest, ']')
	if end < 1 || end > 9 {
		return 0
	}
	n := 0
	for _, c := range []byte(rest[:end]) {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func (m *Received) report(types ...string) *Part {
	for _, p := range m.Reports {
		for _, t := range types {
			if p.ContentType == t {
				return p
			}
		}
	}
	return nil
}

// fieldBlocks reads the header-like blocks of a report part (RFC 3464
// §2.1: per-message fields, then one block per recipient).
func fieldBlocks(data []byte) ([]textproto.Header, error) {
	br := bufio.NewReader(bytes.NewReader(bytes.TrimLeft(data, "\r\n")))
	var out []textproto.Header
	for {
		// skip blank lines between blocks
		for {
			b, err := br.Peek(1)
			if err != nil {
				return out, nil
			}
			if b[0] != '\r' && b[0] != '\n' {
				break
			}
			br.ReadByte()
		}
		h, err := textproto.ReadHeader(br)
		if err != nil {
			if len(out) > 0 && errors.Is(err, io.ErrUnexpectedEOF) {
				return out, nil
			}
			if h.Len() > 0 {
				out = append(out, h)
				return out, nil
			}
			return out, err
		}
		out = append(out, h)
	}
}

// stripAddrType removes the address type of an RFC 3464/8098 address
// field ("rfc822;a@b" → "a@b").
func stripAddrType(v string) string {
	v = strings.TrimSpace(v)
	if t, addr, ok := strings.Cut(v, ";"); ok && !strings.Contains(t, "@") {
		v = strings.TrimSpace(addr)
	}
	return strings.Trim(v, "<>")
}

// foldASCII writes s in US-ASCII: accented letters lose their accents
// (é→e, ç→c), œ/æ become oe/ae, any other non-ASCII character and any
// control character becomes '?'.
func foldASCII(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case unicode.Is(unicode.Mn, r):
		case r == 'œ':
			b.WriteString("oe")
		case r == 'Œ':
			b.WriteString("OE")
		case r == 'æ':
			b.WriteString("ae")
		case r == 'Æ':
			b.WriteString("AE")
		case r == '’':
			b.WriteByte('\'')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
