// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

// MSSanté header names, written with exactly this spelling (Ref#2 §3.x,
// "entêtes spécifiques MSSanté").
const (
	HeaderCodeCDA = "X-MSS-CODECDA" // ECO.2.4.1: CDA type codes, comma-joined, only with XDM
	HeaderINS     = "X-MSS-INS"     // ECO.2.4.2: O or N, only with XDM
	HeaderNIL     = "X-MSS-NIL"     // ECO.2.4.3: product reference, on every message
	HeaderMES     = "X-MSS-MES"     // ECO.2.2.8: FIN towards a patient who must not reply
)

// PatientMaxSize is the size limit of a message towards Mon espace santé:
// 25 Mo (ENS "Messagerie de Mon espace santé" v1.3 §6, as reported); taken
// as 25,000,000 bytes, the stricter reading.
const PatientMaxSize = 25_000_000

// Opener opens an attachment's content; it may be called more than once
// (a PDF report is read for the CDA body and again for the PDF rendition),
// so that nothing is held in memory.
type Opener func() (io.ReadCloser, error)

// BytesOpener returns an Opener on b.
func BytesOpener(b []byte) Opener {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// FileOpener returns an Opener on the named file.
func FileOpener(name string) Opener {
	return func() (io.ReadCloser, error) { return os.Open(name) }
}

// Document is a report carried by a message: its CDA header and its PDF,
// which becomes the level-1 CDA body inside IHE_XDM.ZIP and the PDF
// rendition attached beside it (Ref#2 ECO.2.1.1, ECO.2.1.5: the PDF of a
// level-1 document is identical to the one embedded).
type Document struct {
	Header *cda.Header
	PDF    Opener
	// Options tune the XDS entry (masking codes, replaced entry).
	Options *xdm.DocumentOptions
	// CaseNumber is the optional "numéro de dossier" of the PDF file name.
	CaseNumber string
}

// Attachment is any other attachment.
type Attachment struct {
	Name        string
	ContentType string
	Open        Opener
}

// DSN is what the transport needs to request delivery status
// notifications (RFC 3461): it is not written in the message, the bal
// package passes it in MAIL FROM / RCPT TO when the server offers DSN.
type DSN struct {
	// Notify is a subset of SUCCESS, FAILURE, DELAY, or NEVER alone.
	Notify []string
	// Return is HDRS or FULL (what a failure report carries back).
	Return string
	// EnvelopeID is the ENVID; the Message-ID when empty.
	EnvelopeID string
}

// Limits are the operator's size limits, checked while the message is
// written. The zero value applies PatientMaxSize to messages with a
// patient recipient and no other limit.
type Limits struct {
	MaxSize        int64 // every message; 0 = none
	PatientMaxSize int64 // messages with a patient.mssante.fr recipient; 0 = PatientMaxSize
}

// Message is an MSSanté message to build (Référentiel socle MSSanté #2).
type Message struct {
	From    Sender
	To, Cc  []string
	Bcc     []string // envelope only, never written
	ReplyTo string
	// MessageID is the message id, given with or without its angle
	// brackets ("abc@host" or "<abc@host>"): it is written, and kept here
	// by WriteTo and Envelope, in the <left@right> form of RFC 5322
	// §3.6.4 (NormalizeMessageID), the form Received.MessageID and the
	// reports' OriginalMessageID have too. When empty, a random
	// <hex@sender domain> is generated (NewMessageID).
	MessageID string
	// Date is the current time when zero.
	Date time.Time
	// InReplyTo and References link a reply or a replacement to the
	// original message (RFC 5322, ECO.2.2.2); like MessageID, each id
	// may be given with or without its angle brackets.
	InReplyTo  string
	References []string
	// Subject of a message without documents; with documents it is
	// computed (DocumentSubject) from Label, or from the title of the
	// single document, or "N documents".
	Subject string
	Label   string
	// Text is the body (UTF-8); HTML, when set, makes the body
	// multipart/alternative with Text as the plain part.
	Text, HTML string
	// Documents about one patient, carried in IHE_XDM.ZIP with XDM
	// metadata from XDM and each document's PDF beside it.
	Documents   []Document
	XDM         xdm.Options
	Attachments []Attachment
	// Product is the product reference declared on Convergence
	// (X-MSS-NIL, required on every message).
	Product string
	// EndConversation writes X-MSS-MES: FIN: the patient may not reply
	// (only towards patient.mssante.fr).
	EndConversation bool
	// ReadReceipt asks for an MDN (Disposition-Notification-To: From).
	ReadReceipt bool
	DSN         DSN
	Limits      Limits
}

// Problem is one broken rule: its identifier in the Référentiel socle #2
// (or the REM, RFC or CI-SIS text it comes from, see Rules), the field,
// and a sentence; Err is the error behind it when there is one.
//
// It is cda.Problem under another name (a type alias): the problems of a
// message and those of a CDA header are one type, defined in package cda
// because mssante imports cda and not the other way.
type Problem = cda.Problem

// ErrInvalid is wrapped by the error of a message or an acknowledgement
// that cannot be built. It is cda.ErrInvalid, the one sentinel of a broken
// rule in gomss: errors.Is(err, mssante.ErrInvalid) also matches the error
// of a CDA header (cda.Write, xdm.Writer.AddCDA).
var ErrInvalid = cda.ErrInvalid

// ValidationError lists every rule a message to build breaks (What is
// "mssante: invalid message"). It is cda.ValidationError under another
// name (a type alias), so errors.As with a *mssante.ValidationError or a
// *cda.ValidationError target finds the error of either package. A
// document whose CDA header is invalid is one problem (rule ECO.2.1.1,
// field "document N") whose Err is the header's *ValidationError.
type ValidationError = cda.ValidationError

// whatMessage starts the error of a message that breaks a rule.
const whatMessage = "mssante: invalid message"

func invalid(ps []Problem) error {
	return &ValidationError{What: whatMessage, Problems: ps}
}

// problem returns the Problem whose Detail is the formatted sentence; the
// error of a %w verb is kept as its Err, so that errors.Is sees it
// through the ValidationError.
func problem(rule, field, format string, args ...any) Problem {
	e := fmt.Errorf(format, args...)
	return Problem{Rule: rule, Field: field, Detail: e.Error(), Err: errors.Unwrap(e)}
}

// SizeError is returned when a message exceeds a size limit; nothing more
// is written once the limit is passed.
type SizeError struct {
	Limit   int64
	Patient bool // the limit is the one towards Mon espace santé
}

func (e *SizeError) Error() string {
	if e.Patient {
		return fmt.Sprintf("mssante: message larger than %d bytes, the limit towards Mon espace santé", e.Limit)
	}
	return fmt.Sprintf("mssante: message larger than the operator's limit of %d bytes", e.Limit)
}

// patient returns the identity of the documents (nil without documents).
func (m *Message) patient() *ins.Identity {
	if len(m.Documents) == 0 || m.Documents[0].Header == nil {
		return nil
	}
	return m.Documents[0].Header.Patient
}

func (m *Message) recipients() []string {
	out := append(append([]string{}, m.To...), m.Cc...)
	return append(out, m.Bcc...)
}

func (m *Message) hasPatientRecipient() bool {
	for _, r := range m.recipients() {
		if IsPatientAddress(r) {
			return true
		}
	}
	return false
}

// Validate checks the message before anything is written: addresses,
// sender label, product reference, one patient per message, patient
// recipients built from the documents' qualified INS, X-MSS-MES only
// towards a patient, masking codes compatible with a patient recipient, a
// replacement linked to the original message, and every CDA header.
func (m *Message) Validate() error {
	var ps []Problem
	add := func(rule, field, format string, args ...any) {
		ps = append(ps, problem(rule, field, format, args...))
	}
	ps = append(ps, m.From.validate()...)
	if len(m.To) == 0 && len(m.Cc) == 0 && len(m.Bcc) == 0 {
		add("RFC5322", "To", "at least one recipient is required")
	}
	for _, r := range m.recipients() {
		if err := CheckAddress(r); err != nil {
			add("RFC5322", "To", "%w", err)
		}
	}
	if m.ReplyTo != "" {
		if err := CheckAddress(m.ReplyTo); err != nil {
			add("ECO.2.2.5", "Reply-To", "%w", err)
		}
	}
	if strings.TrimSpace(m.Product) == "" || strings.ContainsAny(m.Product, "\r\n") {
		add("ECO.2.4.3", HeaderNIL, "the product reference (Convergence) is required on every message")
	}
	if m.EndConversation && !m.hasPatientRecipient() {
		add("ECO.2.2.8", HeaderMES, "FIN is only for a message to a patient (patient.mssante.fr)")
	}
	if m.Text == "" && m.HTML != "" {
		add("ECO.2.2.4", "body", "an HTML body needs its text/plain alternative")
	}
	pat := m.patient()
	if len(m.Documents) > 0 {
		if _, err := xdm.NewWriter(io.Discard, m.XDM); err != nil {
			add("ECO.2.1.1", "XDM", "%w", err)
		}
	}
	for i, d := range m.Documents {
		field := fmt.Sprintf("document %d", i+1)
		if d.Header == nil || d.PDF == nil {
			add("ECO.2.1.1", field, "a document needs its CDA header and its PDF")
			continue
		}
		if err := d.Header.Validate(); err != nil {
			add("ECO.2.1.1", field, "%w", err)
		}
		if i > 0 && !samePatient(pat, d.Header.Patient) {
			add("ECO.2.1.1", field, "one patient per message: this document is about another patient")
		}
		if d.Header.Replaces != nil && m.InReplyTo == "" {
			add("ECO.2.2.2", "In-Reply-To", "a replacement (RPLC) must be linked to the original message")
		}
		if d.Options != nil && m.hasPatientRecipient() {
			for _, c := range d.Options.Masking {
				if c.Code == "INVISIBLE_PATIENT" {
					add("CI-SIS", field, "a document invisible to the patient cannot be sent to the patient's mailbox")
				}
			}
		}
	}
	for _, r := range m.recipients() {
		if !IsPatientAddress(r) {
			continue
		}
		if pat == nil {
			continue // a message without document to a patient: the address form was checked
		}
		want, err := pat.MonEspaceSanteAddress()
		if err != nil {
			add("ECO.2.2.6", "To", "a patient address is built only from a qualified INS: %w", err)
		} else if !strings.EqualFold(want, r) {
			add("ECO.2.2.6", "To", "the patient recipient %s is not the patient of the documents", r)
		}
	}
	names := map[string]bool{}
	for _, n := range m.pdfNames() {
		if n != "" {
			names[strings.ToLower(n)] = true
		}
	}
	for _, a := range m.Attachments {
		if names[strings.ToLower(a.Name)] {
			add("RFC2183", "attachment", "%s: two attachments with this name (a receiver saving by name would keep one)", a.Name)
		}
		names[strings.ToLower(a.Name)] = true
		if a.Name == "" || a.Open == nil || strings.ContainsAny(a.Name, "/\\\r\n") {
			add("RFC2183", "attachment", "an attachment needs a plain file name and content")
		}
		if strings.EqualFold(a.Name, xdm.ArchiveName) {
			add("ECO.2.1.1", "attachment", "IHE_XDM.ZIP is built from Documents, not attached by hand")
		}
		if a.ContentType != "" {
			if _, _, err := mime.ParseMediaType(a.ContentType); err != nil {
				add("RFC2045", "attachment", "%s: Content-Type %q: %w", a.Name, a.ContentType, err)
			}
		}
	}
	// Message ids are written normalised (brackets added) but otherwise
	// as given: one that is not then a single <left@right> (a CR or LF
	// above all) would corrupt the header.
	if m.MessageID != "" && !validMsgID(NormalizeMessageID(m.MessageID)) {
		add("RFC5322", "Message-ID", "%q is not a message id left@right or <left@right>", m.MessageID)
	}
	if m.InReplyTo != "" && !validMsgID(NormalizeMessageID(m.InReplyTo)) {
		add("RFC5322", "In-Reply-To", "%q is not a message id left@right or <left@right>", m.InReplyTo)
	}
	for _, r := range m.References {
		if !validMsgID(NormalizeMessageID(r)) {
			add("RFC5322", "References", "%q is not a message id left@right or <left@right>", r)
		}
	}
	if len(ps) > 0 {
		return invalid(ps)
	}
	return nil
}

func samePatient(a, b *ins.Identity) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a == b {
		return true
	}
	pa, sa, _, err1 := xdm.PatientIDs(a)
	pb, sb, _, err2 := xdm.PatientIDs(b)
	return err1 == nil && err2 == nil && pa == pb && sa == sb
}

// CodesCDA returns the X-MSS-CODECDA value: the CDA type codes of the
// documents, comma-joined, each once.
func (m *Message) CodesCDA() string {
	var codes []string
	seen := map[string]bool{}
	for _, d := range m.Documents {
		if c := d.Header.Type.Code; c != "" && !seen[c] {
			seen[c] = true
			codes = append(codes, c)
		}
	}
	return strings.Join(codes, ",")
}

// EffectiveSubject returns the subject written: with documents,
// DocumentSubject of Label (or the single document's title, or
// "N documents"); otherwise Subject.
func (m *Message) EffectiveSubject() string {
	pat := m.patient()
	if pat == nil {
		return oneLine(m.Subject)
	}
	label := m.Label
	if label == "" {
		if len(m.Documents) == 1 {
			label = m.Documents[0].Header.Title
		} else {
			label = fmt.Sprintf("%d documents", len(m.Documents))
		}
	}
	return DocumentSubject(label, &pat.Traits)
}

// prepare fills the generated fields once, so that WriteTo is repeatable.
func (m *Message) prepare() {
	if m.MessageID = NormalizeMessageID(m.MessageID); m.MessageID == "" {
		m.MessageID = NewMessageID(Domain(m.From.Address))
	}
	if m.Date.IsZero() {
		m.Date = time.Now()
	}
}

// validMsgID reports whether s is one msg-id to write: the form the
// checker accepts (reMsgID, ECO.2.2.1) in printable ASCII only.
func validMsgID(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return reMsgID.MatchString(s)
}

// NormalizeMessageID returns a message id in the form it is written,
// <left@right> (RFC 5322 §3.6.4 msg-id): surrounding white space removed
// and the angle brackets added when both are missing. It does not check
// the id (an id with one bracket only, or with spaces inside, is returned
// trimmed and stays invalid); Message.Validate does.
func NormalizeMessageID(id string) string {
	id = strings.TrimSpace(id)
	if id != "" && !strings.HasPrefix(id, "<") && !strings.HasSuffix(id, ">") {
		id = "<" + id + ">"
	}
	return id
}

// NewMessageID returns a random message id <hex@domain> (RFC 5322 §3.6.4).
func NewMessageID(domain string) string {
	var b [16]byte
	rand.Read(b[:])
	if domain == "" {
		domain = "gomss.invalid"
	}
	return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
}

// Envelope is what the transport sends in MAIL FROM and RCPT TO.
type Envelope struct {
	From       string
	Recipients []string
	DSN        DSN
}

// Envelope returns the SMTP envelope of the message: the sender, every
// recipient (To, Cc, Bcc) and the DSN request with ENVID defaulting to the
// Message-ID.
func (m *Message) Envelope() Envelope {
	m.prepare()
	d := m.DSN
	if len(d.Notify) > 0 && d.EnvelopeID == "" {
		d.EnvelopeID = strings.Trim(m.MessageID, "<>")
	}
	return Envelope{From: m.From.Address, Recipients: m.recipients(), DSN: d}
}

// limitWriter stops with a *SizeError once more than limit bytes are
// written.
type limitWriter struct {
	w       io.Writer
	n       int64
	limit   int64
	patient bool
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.limit > 0 && l.n+int64(len(p)) > l.limit {
		return 0, &SizeError{Limit: l.limit, Patient: l.patient}
	}
	n, err := l.w.Write(p)
	l.n += int64(n)
	return n, err
}

// WriteTo validates the message and writes it in RFC 5322 / MIME form:
// multipart/mixed with the body, IHE_XDM.ZIP (built on the fly from the
// documents, streamed through base64) and each document's PDF, then the
// other attachments. Attachments are read from their Openers as they are
// written and never held. The size limits are enforced as bytes are
// written: a *SizeError stops the output (a transport must then abort the
// transaction). The generated Message-ID and Date are kept in m.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	m.prepare()
	lw := &limitWriter{w: w, limit: m.Limits.MaxSize}
	if m.hasPatientRecipient() {
		pl := m.Limits.PatientMaxSize
		if pl == 0 {
			pl = PatientMaxSize
		}
		if lw.limit == 0 || pl < lw.limit {
			lw.limit, lw.patient = pl, true
		}
	}
	err := m.write(lw)
	return lw.n, err
}

func (m *Message) write(w io.Writer) error {
	h := newFields()
	h.address("From", m.From.Label(), m.From.Address)
	h.addressList("To", m.To)
	h.addressList("Cc", m.Cc)
	if m.ReplyTo != "" {
		h.address("Reply-To", "", m.ReplyTo)
	}
	h.text("Subject", m.EffectiveSubject())
	h.raw("Date", m.Date.Format(time.RFC1123Z))
	h.raw("Message-ID", m.MessageID)
	if m.InReplyTo != "" {
		h.raw("In-Reply-To", NormalizeMessageID(m.InReplyTo))
	}
	if refs := m.references(); len(refs) > 0 {
		h.list("References", refs, " ")
	}
	if m.ReadReceipt {
		h.address("Disposition-Notification-To", "", m.From.Address)
	}
	h.raw(HeaderNIL, oneLine(m.Product))
	if len(m.Documents) > 0 {
		h.raw(HeaderCodeCDA, m.CodesCDA())
		ins := "N"
		if _, _, has, _ := xdm.PatientIDs(m.patient()); has {
			ins = "O"
		}
		h.raw(HeaderINS, ins)
	}
	if m.EndConversation {
		h.raw(HeaderMES, "FIN")
	}
	h.raw("MIME-Version", "1.0")
	h.multipart("multipart/mixed", nil)
	mw, err := createMIME(w, h)
	if err != nil {
		return err
	}
	if err := m.writeBody(mw); err != nil {
		return err
	}
	if len(m.Documents) > 0 {
		if err := m.writeXDM(mw); err != nil {
			return err
		}
		for i, name := range m.pdfNames() {
			if err := attach(mw, name, "application/pdf", m.Documents[i].PDF); err != nil {
				return err
			}
		}
	}
	for _, a := range m.Attachments {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if err := attach(mw, a.Name, ct, a.Open); err != nil {
			return err
		}
	}
	return mw.Close()
}

// pdfNames returns the file names of the documents' PDF renditions
// (PDFFileName). Two documents that would get the same name (same act
// date, type and patient, no case number) are told apart by -2, -3…
// before ".pdf", so that a receiver saving attachments by name loses none.
func (m *Message) pdfNames() []string {
	seen := map[string]int{}
	names := make([]string, len(m.Documents))
	for i, d := range m.Documents {
		if d.Header == nil {
			continue
		}
		name := PDFFileName(actDate(d.Header), typeLabel(d.Header), &d.Header.Patient.Traits, d.CaseNumber)
		key := strings.ToLower(name)
		seen[key]++
		if n := seen[key]; n > 1 {
			name = strings.TrimSuffix(name, ".pdf") + "-" + strconv.Itoa(n) + ".pdf"
		}
		names[i] = name
	}
	return names
}

func (m *Message) references() []string {
	var refs []string
	for _, r := range m.References {
		refs = append(refs, NormalizeMessageID(r))
	}
	if irt := NormalizeMessageID(m.InReplyTo); irt != "" && (len(refs) == 0 || refs[len(refs)-1] != irt) {
		refs = append(refs, irt)
	}
	return refs
}

// actDate is the date of the act: the start of the principal service
// event, or the document's date.
func actDate(h *cda.Header) ins.Date {
	t := h.EffectiveTime.Time
	if len(h.ServiceEvents) > 0 && !h.ServiceEvents[0].Low.IsZero() {
		t = h.ServiceEvents[0].Low.Time
	}
	return ins.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// typeLabel is the document type's display name (JDV_J07).
func typeLabel(h *cda.Header) string {
	n := h.WithDefaults()
	if n.Type.Display != "" {
		return n.Type.Display
	}
	return n.Type.Code
}

func (m *Message) writeBody(mw *mimeWriter) error {
	text := m.Text
	if m.HTML == "" {
		return writeText(mw, "text/plain", text)
	}
	h := newFields()
	h.multipart("multipart/alternative", nil)
	alt, err := mw.multipart(h)
	if err != nil {
		return err
	}
	if err := writeText(alt, "text/plain", text); err != nil {
		return err
	}
	if err := writeText(alt, "text/html", m.HTML); err != nil {
		return err
	}
	return alt.Close()
}

func writeText(mw *mimeWriter, mediaType, text string) error {
	h := newFields()
	h.raw("Content-Type", mediaType+"; charset=utf-8")
	pw, err := mw.part(h, encQP)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(pw, text); err != nil {
		return err
	}
	return pw.Close()
}

func attachmentPart(mw *mimeWriter, name, contentType string) (io.WriteCloser, error) {
	h := newFields()
	// The caller's type may carry parameters (charset…): they are kept,
	// with the name. Validate refuses a type that does not parse.
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, params = "application/octet-stream", map[string]string{}
	}
	params["name"] = name
	h.raw("Content-Type", mime.FormatMediaType(mt, params))
	h.raw("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	return mw.part(h, encBase64)
}

func attach(mw *mimeWriter, name, contentType string, open Opener) error {
	rc, err := open()
	if err != nil {
		return fmt.Errorf("mssante: attachment %s: %w", name, err)
	}
	defer rc.Close()
	pw, err := attachmentPart(mw, name, contentType)
	if err != nil {
		return err
	}
	if _, err := io.Copy(pw, rc); err != nil {
		return fmt.Errorf("mssante: attachment %s: %w", name, err)
	}
	return pw.Close()
}

// writeXDM builds IHE_XDM.ZIP straight into its base64 part.
func (m *Message) writeXDM(mw *mimeWriter) error {
	pw, err := attachmentPart(mw, xdm.ArchiveName, "application/zip")
	if err != nil {
		return err
	}
	opts := m.XDM
	if opts.Now == nil {
		date := m.Date
		opts.Now = func() time.Time { return date }
	}
	xw, err := xdm.NewWriter(pw, opts)
	if err != nil {
		return err
	}
	for _, d := range m.Documents {
		rc, err := d.PDF()
		if err != nil {
			return fmt.Errorf("mssante: PDF of %q: %w", d.Header.Title, err)
		}
		_, err = xw.AddCDA(d.Header, cda.Body{MediaType: cda.MediaTypePDF, Content: rc}, d.Options)
		rc.Close()
		if err != nil {
			return err
		}
	}
	if err := xw.Close(); err != nil {
		return err
	}
	return pw.Close()
}

func boundary() string {
	var b [12]byte
	rand.Read(b[:])
	return "gomss-" + hex.EncodeToString(b[:])
}
