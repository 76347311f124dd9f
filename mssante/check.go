// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

// Rules the checker knows, with the sentence it reports. Identifiers are
// those of the Référentiel socle MSSanté #2 (ECO.x) as cited by the
// sources in the package doc; MES for the Mon espace santé operator rules.
var Rules = map[string]string{
	"ECO.2.1.1": "a message carrying documents carries IHE_XDM.ZIP and the PDF rendition, about one patient",
	"ECO.2.1.2": "the patient is identified by the INS in the patientId of METADATA.XML",
	"ECO.2.1.3": "the subject of a message carrying documents is XDM/1.0/DDM+<libellé> <NOM> <prénom> <date de naissance>",
	"ECO.2.1.6": "the PDF is named <date de l'acte>_<type document>_<NOM>_<prénom>[_<numéro de dossier>].pdf",
	"ECO.2.2.1": "Message-ID per RFC 5322",
	"ECO.2.2.2": "In-Reply-To and References per RFC 5322",
	"ECO.2.2.3": "text parts are UTF-8",
	"ECO.2.2.4": "the body is text/plain or multipart/alternative",
	"ECO.2.2.6": "a patient address is <matricule INS>@patient.mssante.fr, the INS of the documents' patient",
	"ECO.2.2.7": "From carries the mailbox label",
	"ECO.2.2.8": "X-MSS-MES is FIN, only towards a patient",
	"ECO.2.4.1": "X-MSS-CODECDA lists the CDA type codes of the XDM documents, only with XDM",
	"ECO.2.4.2": "X-MSS-INS is O (qualified INS in the archive) or N, only with XDM",
	"ECO.2.4.3": "X-MSS-NIL (product reference) is on every message",
	"MES.6":     "a message towards Mon espace santé is at most 25 Mo",
	"IHE-XDM":   "IHE_XDM.ZIP is a readable XDM archive whose documents match their metadata",
	// What Parse tolerated (Received.Problems) that breaks the message's
	// structure: a document message read in spite of it is still not
	// compliant.
	"MIME": "the message is well-formed: header lines are fields and the header ends with a blank line (RFC 5322 §2.2, §3.5), Content-Type fields parse (RFC 2045 §5.1), a multipart has a boundary and its parts end with the close delimiter (RFC 2046 §5.1.1), transfer encodings are known and decodable (RFC 2045 §6)",
	// Reports (DSN, MDN): structure, fields, and the ANS volet on
	// acknowledgements.
	"RFC6522":    "a multipart/report has 2 or 3 parts: human-readable text, the machine-readable message/<report-type>, optionally the returned message or its header; nothing attached beside them",
	"RFC3464":    "a DSN's delivery-status part has Reporting-MTA and, per recipient, Final-Recipient, Action and Status",
	"RFC8098":    "an MDN's disposition-notification part is US-ASCII with Final-Recipient and a valid Disposition, and refers to the returned message",
	"VT-LPS.MDN": "an MSSanté MDN gives Original-Message-ID and Original-Recipient; an integration error has its code in the KO subject and its code and label in the text (ANS volet, struct-msg-mdn)",
}

var (
	reMsgID   = regexp.MustCompile(`^<[^<>@\s]+@[^<>@\s]+>$`)
	rePDFName = regexp.MustCompile(`^(\d{8})_[^_].*_[^_]+_[^_]+\.pdf$`)
)

// Check reads a message (built by gomss or not) and reports every rule of
// Rules it breaks, sorted by rule. A message that cannot be parsed at all
// is an error. It is CheckMessage without the kind of message.
func Check(r io.Reader) ([]Problem, error) {
	res, err := CheckMessage(r)
	if err != nil {
		return nil, err
	}
	return res.Problems, nil
}

// CheckResult is what CheckMessage found: what the message is and the
// rules it breaks.
type CheckResult struct {
	// Kind tells a client's message from a report, and a report written
	// by a mail server (a DSN) from one written by the recipient's
	// software (an MDN).
	Kind MessageKind
	// Problems are the rules broken, sorted by rule (none: compliant).
	Problems []Problem
}

// ServerGenerated reports whether the message is a report written by a
// mail server (a DSN), to which the Ref#2 rules of client messages do not
// apply: a receiving application files it as the operator's, not as a
// non-compliant message.
func (r *CheckResult) ServerGenerated() bool { return r.Kind.ServerGenerated() }

// CheckMessage reads a message (built by gomss or not) and reports its
// kind and every rule of Rules it breaks. A message that cannot be parsed
// at all is an error.
func CheckMessage(r io.Reader) (*CheckResult, error) {
	m, err := Parse(r, nil)
	if err != nil {
		return nil, err
	}
	return &CheckResult{Kind: m.Kind(), Problems: m.Check()}, nil
}

// Check reports the rules a received message breaks, by its Kind:
//
//   - any message: the defects of structure Parse tolerated (rule MIME:
//     a header line that is not a field, a multipart without boundary or
//     close delimiter, an undecodable part), so that a message read in
//     spite of them is never taken for a compliant one;
//   - a message written by a client: the Ref#2 rules (ECO.x), those of
//     documents (IHE-XDM) and of Mon espace santé (MES.6);
//   - a report: its structure (RFC 6522 §3: two or three parts, the
//     machine part's type matching report-type, no attachment beside
//     them);
//   - a DSN, written by the operator's server: the fields of RFC 3464
//     only (X-MSS-NIL and the other client rules do not apply);
//   - an MDN, written by the recipient's software: the fields of RFC
//     8098, the ANS volet's rules on acknowledgements (VT-LPS.MDN:
//     Original-Message-ID and Original-Recipient, KO subject and text of
//     an integration error) and the Ref#2 rules of every sent message
//     (X-MSS-NIL, Message-ID, sender label, UTF-8, no X-MSS-CODECDA or
//     X-MSS-INS without an archive).
func (m *Received) Check() []Problem {
	var ps []Problem
	add := func(rule, field, format string, args ...any) {
		ps = append(ps, problem(rule, field, format, args...))
	}
	for _, d := range m.defects {
		add("MIME", "structure", "%s", d)
	}
	if m.Kind().IsReport() {
		m.checkReport(add)
		return sorted(ps)
	}
	m.checkCommon(add)

	xdmPart := m.Attachment("IHE_XDM.ZIP")
	hasXDM := xdmPart != nil
	var pdfs []*Part
	for _, a := range m.Attachments {
		if a.ContentType == "application/pdf" || strings.HasSuffix(strings.ToLower(a.Name), ".pdf") {
			pdfs = append(pdfs, a)
		}
	}

	// Body (ECO.2.2.3, ECO.2.2.4).
	switch m.ContentType {
	case "text/plain", "multipart/alternative", "multipart/mixed":
	default:
		add("ECO.2.2.4", "Content-Type", "message of type %s", m.ContentType)
	}
	m.checkCharset(add)

	// MSSanté document headers.
	if !hasXDM {
		m.checkNoDocumentHeaders(add, "a message")
		if IsDocumentSubject(m.Subject) {
			add("ECO.2.1.1", "attachments", "the subject announces documents but there is no IHE_XDM.ZIP")
		}
	} else {
		m.checkDocuments(add, pdfs)
	}
	m.checkPatient(add)
	return sorted(ps)
}

// checkCharset checks that the text is UTF-8 (ECO.2.2.3).
func (m *Received) checkCharset(add func(rule, field, format string, args ...any)) {
	if cs := m.TextCharset; cs != "" && cs != "utf-8" && cs != "utf8" && cs != "us-ascii" && cs != "ascii" {
		add("ECO.2.2.3", "body", "text in %s", cs)
	}
}

// checkNoDocumentHeaders checks that a message without IHE_XDM.ZIP has no
// X-MSS-CODECDA nor X-MSS-INS (ECO.2.4.1, ECO.2.4.2).
func (m *Received) checkNoDocumentHeaders(add func(rule, field, format string, args ...any), what string) {
	if m.MSS.Present[HeaderCodeCDA] {
		add("ECO.2.4.1", HeaderCodeCDA, "present on %s without IHE_XDM.ZIP", what)
	}
	if m.MSS.Present[HeaderINS] {
		add("ECO.2.4.2", HeaderINS, "present on %s without IHE_XDM.ZIP", what)
	}
}

// checkPatient checks the recipients towards Mon espace santé (ECO.2.2.6,
// ECO.2.2.8, MES.6).
func (m *Received) checkPatient(add func(rule, field, format string, args ...any)) {
	patient := false
	for _, a := range append(append([]Address{}, m.To...), m.Cc...) {
		if !IsPatientAddress(a.Address) {
			continue
		}
		patient = true
		mat, err := ins.ParseMonEspaceSanteAddress(a.Address)
		if err != nil {
			add("ECO.2.2.6", "To", "%s: %w", a.Address, err)
			continue
		}
		if m.PatientID != nil && m.PatientID.TypeCode == ins.TypeNH && m.PatientID.ID != mat.String() {
			add("ECO.2.2.6", "To", "%s is not the patient of the documents", a.Address)
		}
	}
	if m.MSS.Present[HeaderMES] {
		if m.MSS.MES != "FIN" {
			add("ECO.2.2.8", HeaderMES, "value %q, want FIN", m.MSS.MES)
		}
		if !patient {
			add("ECO.2.2.8", HeaderMES, "on a message without a patient recipient")
		}
	}
	if patient && len(m.Raw) > PatientMaxSize {
		add("MES.6", "size", "%d bytes towards Mon espace santé, limit %d", len(m.Raw), PatientMaxSize)
	}
}

// checkCommon checks what every message needs.
func (m *Received) checkCommon(add func(rule, field, format string, args ...any)) {
	if !m.MSS.Present[HeaderNIL] || m.MSS.NIL == "" {
		add("ECO.2.4.3", HeaderNIL, "missing")
	}
	id := m.Header.Get("Message-Id")
	if !reMsgID.MatchString(strings.TrimSpace(id)) {
		add("ECO.2.2.1", "Message-ID", "missing or malformed: %q", id)
	}
	if v := m.Header.Get("In-Reply-To"); v != "" && m.InReplyTo == "" {
		add("ECO.2.2.2", "In-Reply-To", "malformed: %q", v)
	}
	if m.From == nil {
		add("ECO.2.2.7", "From", "missing or malformed")
	} else if strings.TrimSpace(m.From.Name) == "" {
		add("ECO.2.2.7", "From", "no mailbox label (display name)")
	}
}

func (m *Received) checkDocuments(add func(rule, field, format string, args ...any), pdfs []*Part) {
	if m.XDM == nil {
		add("IHE-XDM", "IHE_XDM.ZIP", "unreadable: %v", m.XDMErr)
	} else if err := m.XDM.Verify(); err != nil {
		add("IHE-XDM", "IHE_XDM.ZIP", "%w", err)
	}
	if len(pdfs) == 0 {
		add("ECO.2.1.1", "attachments", "IHE_XDM.ZIP without the PDF rendition")
	}
	for _, p := range pdfs {
		sm := rePDFName.FindStringSubmatch(p.Name)
		if sm == nil {
			add("ECO.2.1.6", "attachment", "PDF name %q", p.Name)
			continue
		}
		if _, err := time.Parse("20060102", sm[1]); err != nil {
			add("ECO.2.1.6", "attachment", "PDF name %q: %s is not a date", p.Name, sm[1])
		}
	}
	if !strings.HasPrefix(m.Subject, SubjectPrefix) || len(strings.Fields(strings.TrimPrefix(m.Subject, SubjectPrefix))) < 3 {
		add("ECO.2.1.3", "Subject", "%q", m.Subject)
	}
	if !m.MSS.Present[HeaderCodeCDA] {
		add("ECO.2.4.1", HeaderCodeCDA, "missing on a message with IHE_XDM.ZIP")
	}
	if !m.MSS.Present[HeaderINS] {
		add("ECO.2.4.2", HeaderINS, "missing on a message with IHE_XDM.ZIP")
	} else if m.MSS.INS != "O" && m.MSS.INS != "N" {
		add("ECO.2.4.2", HeaderINS, "value %q, want O or N", m.MSS.INS)
	}
	if m.XDM == nil {
		return
	}
	codes := map[string]bool{}
	patients := map[string]bool{}
	for _, d := range m.XDM.Metadata.Documents {
		codes[d.Type.Code] = true
		patients[d.PatientID] = true
	}
	if len(patients) > 1 {
		add("ECO.2.1.1", "IHE_XDM.ZIP", "%d patients in one message", len(patients))
	} else if m.PatientID == nil && len(m.XDM.Metadata.Documents) > 0 {
		add("ECO.2.1.2", "METADATA.XML", "the submission set's patientId %q is missing or is not the documents' patient", m.XDM.Metadata.SubmissionSet.PatientID)
	}
	if n := countArchives(m); n > 1 {
		add("ECO.2.1.1", "IHE_XDM.ZIP", "%d archives in one message", n)
	}
	if len(m.XDM.Others) > 0 {
		add("ECO.2.1.1", "IHE_XDM.ZIP", "%d submission sets in one archive (only %s is read)", 1+len(m.XDM.Others), m.XDM.Subset)
	}
	if m.MSS.Present[HeaderCodeCDA] {
		got := map[string]bool{}
		for _, c := range m.MSS.CodeCDA {
			got[c] = true
		}
		if !sameSet(got, codes) {
			add("ECO.2.4.1", HeaderCodeCDA, "%q does not list the archive's type codes %s", strings.Join(m.MSS.CodeCDA, ","), keys(codes))
		}
	}
	hasINS := false
	if m.PatientID != nil && m.PatientID.TypeCode == ins.TypeNH {
		if a, err := ins.ParseAuthority(m.PatientID.Authority); err == nil && a.IsINS() {
			if _, err := ins.ParseMatricule(m.PatientID.ID); err == nil {
				hasINS = true
			} else {
				add("ECO.2.1.2", "METADATA.XML", "patientId: %w", err)
			}
		}
	}
	switch {
	case m.MSS.INS == "O" && !hasINS:
		add("ECO.2.4.2", HeaderINS, "O but the archive's patientId is not a valid INS")
	case m.MSS.INS == "N" && hasINS:
		add("ECO.2.4.2", HeaderINS, "N but the archive's patientId is an INS")
	}
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func sorted(ps []Problem) []Problem {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Rule < ps[j].Rule })
	return ps
}

func countArchives(m *Received) int {
	n := 0
	for _, a := range m.Attachments {
		if strings.EqualFold(a.Name, xdm.ArchiveName) {
			n++
		}
	}
	return n
}
