// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"golang.org/x/text/encoding/htmlindex"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

// ErrParse is wrapped by errors of Parse.
var ErrParse = errors.New("mssante: cannot parse message")

// ErrTooLarge is wrapped (with ErrParse) by Parse when the message is
// larger than ParseOptions.MaxSize.
var ErrTooLarge = errors.New("mssante: message too large")

// DefaultMaxParseSize caps what Parse reads when ParseOptions.MaxSize is 0.
const DefaultMaxParseSize = 64 << 20

// DefaultMaxParts caps the number of MIME parts (leaves and multiparts)
// Parse reads when ParseOptions.MaxParts is 0. An MSSanté message has a
// handful; each part costs go-message some hundreds of bytes whatever its
// size, so the cap keeps a message of many tiny parts from costing a
// hundred times its size.
const DefaultMaxParts = 10000

// ParseOptions tune Parse. The zero value is ready to use.
type ParseOptions struct {
	// MaxSize is the largest message read (DefaultMaxParseSize when 0).
	MaxSize int64
	// MaxParts is the largest number of MIME parts read
	// (DefaultMaxParts when 0).
	MaxParts int
	// XDMLimits bound the archive reader.
	XDMLimits *xdm.Limits
}

// Address is a parsed mailbox.
type Address struct {
	Name    string
	Address string
}

// MSSHeaders are the MSSanté-specific headers as received. Present tells
// which were there at all.
type MSSHeaders struct {
	CodeCDA []string
	INS     string
	NIL     string
	MES     string
	Present map[string]bool
}

// Part is a leaf part of a received message, decoded (transfer encoding
// and, for text, charset).
type Part struct {
	ContentType string            // media type, lower case
	Params      map[string]string // Content-Type parameters
	Disposition string            // inline, attachment or ""
	Name        string            // file name (Content-Disposition filename or Content-Type name)
	Data        []byte
}

// Received is a message as read: headers, MSSanté headers, body,
// attachments and, when it carries one, the XDM archive and the patient's
// INS from its metadata.
type Received struct {
	// Raw is the message as received.
	Raw                       []byte
	Header                    message.Header
	From                      *Address
	To, Cc, ReplyTo           []Address
	Subject                   string
	Date                      time.Time
	MessageID                 string
	InReplyTo                 string
	References                []string
	ReturnPath                string
	DispositionNotificationTo []Address
	MSS                       MSSHeaders
	// ContentType is the media type of the whole message; ReportType the
	// report-type parameter of a multipart/report (lower case, "" for
	// any other message): ReportDeliveryStatus for a DSN,
	// ReportDispositionNotification for an MDN (see Kind).
	ContentType string
	ReportType  ReportType
	Text, HTML  string
	// TextCharset is the charset the text was declared in (converted to
	// UTF-8 in Text).
	TextCharset string
	Attachments []*Part
	// Reports are the parts of a multipart/report after the human text:
	// message/delivery-status, message/disposition-notification,
	// text/rfc822-headers, message/rfc822.
	Reports []*Part
	// XDM is the archive of an IHE_XDM.ZIP attachment (XDMErr when it
	// could not be read); PatientID its submission set patientId, nil when
	// a document entry names another patient (see Problems).
	XDM       *xdm.Archive
	XDMErr    error
	PatientID *ins.CX
	// Problems lists what the parser tolerated, one line each: defects
	// of structure (a header line that is not a field, a multipart
	// without boundary or close delimiter, an undecodable part: see
	// "Tolerant reading" in the package doc, and Check's rule MIME),
	// unknown charsets, text that is not what its charset says, an
	// epilogue, address lists that do not parse, an archive's oddities.
	Problems []string

	// defects are the Problems that break the MIME structure (RFC 5322
	// §2.2, RFC 2045 §6, RFC 2046 §5.1.1), which Check reports.
	defects []string
	// reportParts are the direct children of a top-level
	// multipart/report, in order (what Check lints against RFC 6522 §3).
	reportParts []reportPart
	// parts reads the leaf parts while Parse runs (nil after).
	parts *partReader
}

// reportPart is one direct child of a top-level multipart/report.
type reportPart struct {
	mediaType string // lower case
	name      string // file name, "" when none
	encoding  string // Content-Transfer-Encoding, lower case ("" = 7bit)
}

// Parse reads a received message (RFC 5322 / MIME, charsets such as
// ISO-8859-1 converted to UTF-8). The message and its attachments are
// held in memory once each (up to MaxSize). A message that breaks MIME is
// read as far as it goes, each defect in Problems (see "Tolerant reading"
// in the package doc); only input without any header, or past the
// limits, is an error (ErrParse). An IHE_XDM.ZIP attachment
// (any case) is opened with package xdm; its documents are not verified
// here (use XDM.Verify). A message already in memory is better read by
// ParseBytes, which does not copy it.
func Parse(r io.Reader, opts *ParseOptions) (*Received, error) {
	o := parseOptions(opts)
	// The size hint is checked against MaxSize before any buffer is sized
	// from it: a reader announcing 1 GiB must not cost 1 GiB when MaxSize
	// is 1 MiB (issue 20, point 4).
	hint := int64(0)
	switch v := r.(type) {
	case interface{ Len() int }: // bytes.Reader, bytes.Buffer, strings.Reader: what is left to read
		if n := int64(v.Len()); n > o.MaxSize {
			return nil, fmt.Errorf("%w: %w: %d bytes, larger than %d", ErrParse, ErrTooLarge, n, o.MaxSize)
		} else {
			hint = n
		}
	case interface{ Stat() (os.FileInfo, error) }: // a file: its size, whatever the offset
		if fi, err := v.Stat(); err == nil {
			hint = min(fi.Size(), o.MaxSize)
		}
	}
	var pr partReader
	raw, err := pr.readAll(io.LimitReader(r, o.MaxSize+1), int(hint))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParse, err)
	}
	return parse(raw, &o, &pr)
}

// ParseBytes is Parse of a message already in memory, without copying
// it: Received.Raw is b itself, so b must not be changed while the
// result is in use. The decoded parts (Part.Data, Text…) are copies, as
// with Parse. A message read whole before parsing (from IMAP, a file)
// then costs its size once, not twice.
func ParseBytes(b []byte, opts *ParseOptions) (*Received, error) {
	o := parseOptions(opts)
	if n := int64(len(b)); n > o.MaxSize { // as Parse of a bytes.Reader says it
		return nil, fmt.Errorf("%w: %w: %d bytes, larger than %d", ErrParse, ErrTooLarge, n, o.MaxSize)
	}
	return parse(b, &o, &partReader{})
}

// parseOptions is opts with its defaults set.
func parseOptions(opts *ParseOptions) ParseOptions {
	var o ParseOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxParseSize
	}
	if o.MaxParts <= 0 {
		o.MaxParts = DefaultMaxParts
	}
	return o
}

// parse reads the message raw, held in memory, with options o (defaults
// set) and the part reader pr.
func parse(raw []byte, o *ParseOptions, pr *partReader) (*Received, error) {
	if int64(len(raw)) > o.MaxSize {
		return nil, fmt.Errorf("%w: %w: larger than %d bytes", ErrParse, ErrTooLarge, o.MaxSize)
	}
	hr, err := readHeaderBlock(raw, "header")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParse, err)
	}
	if hr.noHeader {
		return nil, fmt.Errorf("%w: no header: the first line is not a header field", ErrParse)
	}
	pr.max = o.MaxParts
	m := &Received{Raw: raw, Header: hr.header, parts: pr}
	defer func() { m.parts = nil }()
	m.defect(hr.faults...)
	m.readHeader()
	mt, params, _ := mediaType(hr.header)
	m.ContentType = mt
	if mt == "multipart/report" {
		m.ReportType = ReportType(strings.ToLower(strings.TrimSpace(params["report-type"])))
	}
	if err := m.walk(hr.header, hr.body, 0, false, ""); err != nil {
		return m, fmt.Errorf("%w: %w", ErrParse, err)
	}
	archives := 0
	for _, a := range m.Attachments {
		if !strings.EqualFold(a.Name, xdm.ArchiveName) {
			continue
		}
		if archives++; archives > 1 {
			m.Problems = append(m.Problems, fmt.Sprintf("%s attached %d times: only the first is read (ECO.2.1.1: one archive per message)", xdm.ArchiveName, archives))
			continue
		}
		m.XDM, m.XDMErr = xdm.OpenReader(bytes.NewReader(a.Data), int64(len(a.Data)), o.XDMLimits)
		if m.XDM != nil {
			m.PatientID = archivePatient(m.XDM, &m.Problems)
			if len(m.XDM.Others) > 0 {
				m.Problems = append(m.Problems, fmt.Sprintf("%s holds %d more submission set(s) (%s): only %s is read",
					xdm.ArchiveName, len(m.XDM.Others), strings.Join(m.XDM.Others, ", "), m.XDM.Subset))
			}
		}
	}
	return m, nil
}

// archivePatient returns the submission set's patientId when every
// document entry names the same patient; nil, with a problem, when one
// names another (the archive does not say which patient it is about).
func archivePatient(a *xdm.Archive, problems *[]string) *ins.CX {
	cx, err := ins.ParseCX(a.Metadata.SubmissionSet.PatientID)
	if err != nil {
		return nil
	}
	for _, d := range a.Metadata.Documents {
		dx, err := ins.ParseCX(d.PatientID)
		if err != nil || dx.ID != cx.ID || dx.Authority != cx.Authority {
			*problems = append(*problems, fmt.Sprintf("%s: document %s has patientId %q, the submission set %q: patient unknown",
				xdm.ArchiveName, d.UniqueID, d.PatientID, a.Metadata.SubmissionSet.PatientID))
			return nil
		}
	}
	return &cx
}

// wordDecoder decodes RFC 2047 words in any charset golang.org/x/text
// knows (ISO-8859-1, Windows-1252…), without a global charset reader.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, in io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(in), nil
}}

// parseAddressList reads an address-list field value (display names
// RFC 2047-decoded); nil for an empty value.
func parseAddressList(v string) ([]Address, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	as, err := (&netmail.AddressParser{WordDecoder: wordDecoder}).ParseList(v)
	var out []Address
	for _, a := range as {
		out = append(out, Address{Name: a.Name, Address: a.Address})
	}
	return out, err
}

func (m *Received) readHeader() {
	h := mail.Header{Header: m.Header}
	list := func(key string) []Address {
		out, err := parseAddressList(h.Get(key))
		if err != nil {
			m.Problems = append(m.Problems, fmt.Sprintf("%s: %v", key, err))
		}
		return out
	}
	if from := list("From"); len(from) > 0 {
		m.From = &from[0]
	}
	m.To, m.Cc, m.ReplyTo = list("To"), list("Cc"), list("Reply-To")
	m.DispositionNotificationTo = list("Disposition-Notification-To")
	if s, err := wordDecoder.DecodeHeader(h.Get("Subject")); err == nil {
		m.Subject = s
	} else {
		m.Subject = h.Get("Subject")
		m.Problems = append(m.Problems, "Subject: "+err.Error())
	}
	if d, err := h.Date(); err == nil {
		m.Date = d
	}
	// Kept in the <left@right> form (NormalizeMessageID), so that it
	// compares equal to Message.MessageID and to the Original-Message-ID
	// of the reports on it even when the sender left out the brackets
	// (Check still reports that, ECO.2.2.1).
	m.MessageID = NormalizeMessageID(h.Get("Message-Id"))
	if ids, err := h.MsgIDList("In-Reply-To"); err == nil && len(ids) > 0 {
		m.InReplyTo = "<" + ids[0] + ">"
	}
	if ids, err := h.MsgIDList("References"); err == nil {
		for _, id := range ids {
			m.References = append(m.References, "<"+id+">")
		}
	}
	m.ReturnPath = strings.Trim(strings.TrimSpace(h.Get("Return-Path")), "<>")
	m.MSS.Present = map[string]bool{}
	for _, k := range []string{HeaderCodeCDA, HeaderINS, HeaderNIL, HeaderMES} {
		if h.Has(k) {
			m.MSS.Present[k] = true
		}
	}
	for _, c := range strings.Split(h.Get(HeaderCodeCDA), ",") {
		if c = strings.TrimSpace(c); c != "" {
			m.MSS.CodeCDA = append(m.MSS.CodeCDA, c)
		}
	}
	m.MSS.INS = strings.TrimSpace(h.Get(HeaderINS))
	m.MSS.NIL = strings.TrimSpace(h.Get(HeaderNIL))
	m.MSS.MES = strings.TrimSpace(h.Get(HeaderMES))
}

// defect records what Parse tolerated in the MIME structure: in Problems,
// and for Check (rule MIME).
func (m *Received) defect(faults ...string) {
	m.Problems = append(m.Problems, faults...)
	m.defects = append(m.defects, faults...)
}

// walk collects the leaf parts of the entity of header h and body body.
// inReport is set below a multipart/report; what names the entity in the
// problems ("" for the message, "part 2.1" below).
func (m *Received) walk(h message.Header, body []byte, depth int, inReport bool, what string) error {
	if depth > 20 {
		return errors.New("MIME nesting deeper than 20 levels")
	}
	if err := m.parts.count(); err != nil {
		return err
	}
	mt, params, err := mediaType(h)
	if err != nil {
		label := "header"
		if what != "" {
			label = what + " header"
		}
		m.defect(fmt.Sprintf("%s: Content-Type: %v: read as %s", label, err, mt))
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return m.leaf(h, body, "", inReport && strings.HasPrefix(mt, "message/"), what)
	}
	name := mt
	if what != "" {
		name = what + " " + mt
	}
	boundary := params["boundary"]
	if boundary == "" {
		// RFC 2046 §5.1.1: the boundary parameter is required. The body
		// is all there is to read: one text part.
		m.defect(name + ": no boundary parameter: the body is read as one text/plain part")
		return m.leaf(h, body, "text/plain", false, what)
	}
	s := newMultipartScanner(body, boundary, name)
	report := inReport || mt == "multipart/report"
	first := true
	for i := 1; ; i++ {
		pb, ok := s.next()
		if !ok {
			break
		}
		pwhat := fmt.Sprintf("part %d", i)
		if what != "" {
			pwhat = fmt.Sprintf("%s.%d", what, i) // "part 2.1"
		}
		hr, err := readHeaderBlock(pb, pwhat+" header")
		if err != nil {
			return err
		}
		ph := hr.header
		m.defect(hr.faults...)
		if hr.noHeader {
			// RFC 2046 §5.1.1: a part without header starts with the
			// blank line. What is there is its body (text/plain).
			m.defect(pwhat + ": no header and no blank line before its body: read as a text/plain body")
		}
		if depth == 0 && mt == "multipart/report" {
			m.reportParts = append(m.reportParts, newReportPart(ph))
		}
		if mt == "multipart/report" && !first {
			if err := m.parts.count(); err != nil {
				return err
			}
			if err := m.leaf(ph, hr.body, "", true, pwhat); err != nil {
				return err
			}
			continue
		}
		first = false
		if err := m.walk(ph, hr.body, depth+1, report, pwhat); err != nil {
			return err
		}
	}
	m.defect(s.faults...)
	m.Problems = append(m.Problems, s.notes...)
	if s.noDelimiter {
		if len(bytes.TrimSpace(body)) == 0 {
			m.defect(name + ": empty body: no part")
			return nil
		}
		m.defect(name + ": no delimiter line: the body is read as one text/plain part")
		return m.leaf(h, body, "text/plain", false, what)
	}
	return nil
}

// mediaType returns the media type of h (lower case) and its parameters.
// Without a Content-Type it is text/plain (RFC 2045 §5.2, RFC 2046 §5.1:
// the default in a multipart too). A Content-Type that does not parse
// gives its media type when that much is readable (its parameters are
// then lost), text/plain otherwise, as RFC 2045 §5.2 recommends; with
// the error.
func mediaType(h message.Header) (string, map[string]string, error) {
	mt, params, err := h.ContentType()
	if err == nil {
		if mt == "" {
			mt = "text/plain"
		}
		return strings.ToLower(mt), params, nil
	}
	// go-message gives the raw field value as the media type on error.
	v := h.Get("Content-Type")
	mt, _, _ = mime.ParseMediaType(v)
	if mt == "" {
		mt = leadingMediaType(v) // "application/pdf name=x.pdf" (no ";")
	}
	if mt == "" {
		mt = "text/plain"
	}
	return strings.ToLower(mt), nil, err
}

// leadingMediaType returns the type/subtype v starts with (RFC 2045 §5.1
// tokens), "" when it does not start with one.
func leadingMediaType(v string) string {
	v = strings.TrimLeft(v, " \t")
	token := func(s string) int {
		n := 0
		for n < len(s) && s[n] > ' ' && s[n] < 0x7f && !strings.ContainsRune(`()<>@,;:\"/[]?=`, rune(s[n])) {
			n++
		}
		return n
	}
	t := token(v)
	if t == 0 || t >= len(v) || v[t] != '/' {
		return ""
	}
	st := token(v[t+1:])
	if st == 0 {
		return ""
	}
	return v[:t+1+st]
}

func newReportPart(h message.Header) reportPart {
	mt, params, _ := mediaType(h)
	_, dparams, _ := h.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if dec, err := wordDecoder.DecodeHeader(name); err == nil {
		name = dec
	}
	return reportPart{mediaType: strings.ToLower(mt), name: name,
		encoding: strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))}
}

// leaf decodes one part and files it as body text, attachment or report.
// asType, when set, is the media type it is read as (a multipart that
// cannot be split).
func (m *Received) leaf(h message.Header, body []byte, asType string, report bool, what string) error {
	mt, params, _ := mediaType(h)
	if asType != "" {
		mt, params = asType, nil
	}
	disp, dparams, _ := h.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if name != "" {
		if dec, err := wordDecoder.DecodeHeader(name); err == nil {
			name = dec
		}
	}
	if what == "" {
		what = "body"
	}
	var data []byte
	enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	if asType != "" {
		enc = "" // RFC 2045 §6.4: a multipart is not encoded
	}
	switch enc {
	case "", "7bit", "8bit", "binary":
		data = bytes.Clone(body)
	case "base64", "quoted-printable":
		// Decoded in one allocation of its size: base64 at its exact
		// decoded size (decodeBase64), quoted-printable within its
		// encoded size, which decoding never exceeds (RFC 2045 §6.7).
		// base64 that decodeBase64 leaves goes to go-message as before,
		// without a size hint: its decoder's result on such input
		// depends on the size of the reads (padding in the middle ends
		// a read's chunk or is an error).
		var ok bool
		hint := len(body)
		if enc == "base64" {
			data, ok = decodeBase64(body)
			hint = 0
		}
		var err error
		if !ok {
			dh := message.Header{}
			dh.Set("Content-Transfer-Encoding", enc)
			var ent *message.Entity
			ent, err = message.New(dh, bytes.NewReader(body))
			if err == nil {
				data, err = m.parts.readAll(ent.Body, hint)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				// Input cut short: what was decoded up to it is the
				// data, as readAll without a hint has it.
				err = nil
			}
		}
		if err != nil {
			// RFC 2045 §6.7, §6.8: not decodable. The bytes as received
			// are kept, not a prefix of the decoded content.
			m.defect(fmt.Sprintf("%s (%s): %s not decodable (%v): kept as received", what, mt, enc, err))
			data = bytes.Clone(body)
		}
	default:
		m.defect(fmt.Sprintf("%s (%s): unknown Content-Transfer-Encoding %q: kept as received", what, mt, enc))
		data = bytes.Clone(body)
	}
	p := &Part{ContentType: mt, Params: params, Disposition: strings.ToLower(disp), Name: name, Data: data}
	isText := mt == "text/plain" || mt == "text/html"
	if isText && p.Disposition != "attachment" && name == "" && !report {
		text, cs := m.decodeText(data, params["charset"], what)
		text = strings.ReplaceAll(text, "\r\n", "\n") // MIME canonical CRLF → Go text
		if mt == "text/plain" && m.Text == "" {
			m.Text, m.TextCharset = text, cs
			return nil
		}
		if mt == "text/html" && m.HTML == "" {
			m.HTML = text
			return nil
		}
	}
	if report && (strings.HasPrefix(mt, "message/") || mt == "text/rfc822-headers") {
		m.Reports = append(m.Reports, p)
		return nil
	}
	m.Attachments = append(m.Attachments, p)
	return nil
}

// decodeBase64 decodes a base64 body (RFC 2045 §6.8) in one allocation
// of its exact decoded size, computed from the encoded length less the
// line breaks and the padding. It returns ok only when the body is plain
// base64 split by CR/LF line breaks, which is what senders write: then
// go-message's decoder gives the same bytes. A body with blanks in it
// (go-message reads those as line breaks) or that does not decode at
// once is left to go-message (ok false), so that what is tolerated and
// what is reported stays what it was.
func decodeBase64(body []byte) (data []byte, ok bool) {
	if bytes.IndexByte(body, ' ') >= 0 || bytes.IndexByte(body, '\t') >= 0 {
		return nil, false
	}
	n := len(body) - bytes.Count(body, []byte{'\n'}) - bytes.Count(body, []byte{'\r'})
	if n%4 != 0 {
		return nil, false
	}
	size := n / 4 * 3
	// The padding: the last two characters that are not line breaks.
	for i, pad := len(body)-1, 0; i >= 0 && pad < 2; i-- {
		switch body[i] {
		case '\r', '\n':
			continue
		case '=':
			size--
			pad++
			continue
		}
		break
	}
	data = make([]byte, size)
	k, err := base64.StdEncoding.Decode(data, body)
	if err != nil || k != size {
		return nil, false
	}
	return data, true
}

// decodeText converts data from its declared charset to UTF-8 (Parse does
// not let go-message convert it, so a global message.CharsetReader
// changes nothing here).
func (m *Received) decodeText(data []byte, charset, what string) (string, string) {
	cs := strings.ToLower(strings.TrimSpace(charset))
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		// Not converted; said when the bytes are not what is declared
		// (no charset: US-ASCII, RFC 2045 §5.2).
		switch {
		case !utf8.Valid(data):
			m.Problems = append(m.Problems, fmt.Sprintf("%s: text declared %s is not valid UTF-8: kept as bytes", what, orASCII(cs)))
		case cs != "utf-8" && cs != "utf8" && !isASCII(data):
			m.Problems = append(m.Problems, fmt.Sprintf("%s: text declared %s holds 8-bit UTF-8: read as UTF-8", what, orASCII(cs)))
		}
		return string(data), cs
	}
	enc, err := htmlindex.Get(cs)
	if err != nil {
		m.Problems = append(m.Problems, fmt.Sprintf("%s: unknown charset %q: text kept as bytes", what, charset))
		return string(data), cs
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		m.Problems = append(m.Problems, fmt.Sprintf("%s: charset %q: %v", what, charset, err))
		return string(data), cs
	}
	return string(out), cs
}

func orASCII(cs string) string {
	if cs == "" {
		return "us-ascii (no charset)"
	}
	return cs
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// IsDocumentMessage reports whether the message carries MSSanté documents:
// an IHE_XDM.ZIP attachment (any case) or a subject starting with
// XDM/1.0/DDM. A report (MDN, DSN) never is.
func (m *Received) IsDocumentMessage() bool {
	if m.Kind() != KindMessage {
		return false // a report is about a message, which it may return (message/rfc822)
	}
	for _, a := range m.Attachments {
		if strings.EqualFold(a.Name, xdm.ArchiveName) {
			return true
		}
	}
	return IsDocumentSubject(m.Subject)
}

// DisplaySubject is the subject without the XDM/1.0/DDM+ prefix.
func (m *Received) DisplaySubject() string { return DisplaySubject(m.Subject) }

// FromPatient reports whether the message comes from a Mon espace santé
// mailbox (a patient's message, to be shown as such: SC.MSS/UX.25).
func (m *Received) FromPatient() bool {
	return m.From != nil && IsPatientAddress(m.From.Address)
}

// Attachment returns the first attachment named name (any case).
func (m *Received) Attachment(name string) *Part {
	for _, a := range m.Attachments {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// partReader reads the parts of one message. Its scratch buffer, reused
// from part to part, takes each part's first bytes: a part that fits is
// copied out at its exact size, so a part of n bytes costs n of
// allocation whatever the number of parts (a fresh 1 MiB buffer per part
// made a 10 MB message of 200,000 one-byte parts allocate 200 GB: issue
// 20, point 1). A larger part goes on in chunks that grow with it, joined
// once at the end: about 2n (io.ReadAll grows by about 1.25× on large
// inputs and costs about 5n).
type partReader struct {
	scratch []byte
	parts   int // parts read so far
	max     int // MaxParts
}

// count counts one more part, an error wrapping ErrTooLarge past max.
func (pr *partReader) count() error {
	if pr.parts++; pr.parts > pr.max {
		return fmt.Errorf("%w: more than %d MIME parts", ErrTooLarge, pr.max)
	}
	return nil
}

const (
	scratchSize  = 32 << 10
	maxChunkSize = 1 << 20
)

// readAll reads r to EOF. With a size hint it reads into one buffer of
// that size (the caller bounds the hint); without, as described on
// partReader.
func (pr *partReader) readAll(r io.Reader, hint int) ([]byte, error) {
	if hint > 0 {
		buf := make([]byte, 0, hint+1)
		for {
			if len(buf) == cap(buf) {
				return appendChunks(buf, r, len(buf))
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err != nil {
				if errors.Is(err, io.EOF) {
					return buf, nil
				}
				return buf, err
			}
		}
	}
	if pr.scratch == nil {
		pr.scratch = make([]byte, scratchSize)
	}
	n, err := io.ReadFull(r, pr.scratch)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = nil
		}
		return bytes.Clone(pr.scratch[:n]), err
	}
	return appendChunks(pr.scratch[:n], r, 2*n)
}

// appendChunks reads r to EOF after first (which it copies), in chunks of
// next bytes doubling up to maxChunkSize, and joins them once.
func appendChunks(first []byte, r io.Reader, next int) ([]byte, error) {
	var chunks [][]byte
	total := len(first)
	var rerr error
	for {
		next = min(max(next, 512), maxChunkSize)
		c := make([]byte, next)
		n, err := io.ReadFull(r, c)
		if n > 0 {
			chunks = append(chunks, c[:n])
			total += n
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				rerr = err
			}
			break
		}
		next *= 2
	}
	out := make([]byte, 0, total)
	out = append(out, first...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, rerr
}
