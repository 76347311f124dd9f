// SPDX-License-Identifier: Apache-2.0

package intake

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/nos"
)

// Document is a received document as the decision reads it: what its CDA
// header says of itself and of the patient, and what the message around
// it says of the patient. FromReceived and FromHeader fill it; a vendor
// that reads documents its own way may fill it directly.
type Document struct {
	// MessageID is the Message-ID of the e-mail that carried the document.
	MessageID string
	// ID is ClinicalDocument/id, SetID its setId (ID when absent) and
	// Version its versionNumber (1 when absent): SC.CDA/MSS.01–03.
	ID      cda.II
	SetID   cda.II // setId
	Version int    // versionNumber
	// Replaces is relatedDocument[@typeCode='RPLC']/parentDocument/id,
	// the version this one replaces, when the header names one.
	Replaces *cda.II
	// Type is ClinicalDocument/code (JDV_J07) and Class the XDS classCode
	// ASS_X04 deduces from it ("" when the table has none): the
	// classification of SC.CDA/MSS.04.
	Type  cda.Code
	Class string // XDS classCode from ASS_X04
	// Patient is the recordTarget as read (ins.ReadRecordTarget): its
	// Status is empty, a received INS is never taken as locally qualified.
	Patient ins.Identity
	// PatientErr is the recordTarget reader's error (an INS whose key is
	// wrong, for instance); nil when the recordTarget was read whole.
	PatientErr error
	// INSHeader is the X-MSS-INS header of the message: "O" when the
	// sender says a qualified INS is in the archive, "N" otherwise, ""
	// when absent (Ref#2 ECO.2.4.2).
	INSHeader string
	// SubmissionPatient is the patientId of the XDM submission set
	// (METADATA.XML), by which Ref#2 ECO.2.1.2 identifies the patient;
	// nil when the archive has none.
	SubmissionPatient *ins.CX
	// Ref is the vendor's own reference to the stored document or message
	// (a file name, a blob id): carried untouched, so that a worklist item
	// resolved days later can be found and acknowledged.
	Ref string
}

// Key is the document's identity for duplicates and the worklist: id and
// version, "root^extension#version".
func (d Document) Key() string {
	return d.ID.String() + "#" + itoa(d.version())
}

// version is Version, 1 when absent (CDA: versionNumber 1 is the first).
func (d *Document) version() int {
	if d.Version < 1 {
		return 1
	}
	return d.Version
}

// setID is SetID, ID when absent.
func (d *Document) setID() cda.II {
	if d.SetID.IsZero() {
		return d.ID
	}
	return d.SetID
}

// fictitious reports whether the document names a test or demonstration
// patient (INS-NIR de test .10, de démonstration .11), in its header or in
// the archive's metadata.
func (d *Document) fictitious() bool {
	if d.Patient.INS.Authority.IsFictitious() {
		return true
	}
	return d.SubmissionPatient != nil && d.SubmissionPatient.Fictitious()
}

// ErrDocument is wrapped by the errors of FromReceived: the message has no
// readable archive, or a document of it cannot be read or does not match
// its metadata. Such a message cannot be decided on; answer it with
// integration error 906.
var ErrDocument = errors.New("intake: document")

// FromReceived reads the CDA header of every document of a received
// message's IHE_XDM.ZIP archive (each read to its end, so that its SHA-1
// and size are checked against METADATA.XML) and returns them as
// Documents, with the message's X-MSS-INS and submission-set patientId.
// It returns an error wrapping ErrDocument, naming the document, when the
// message has no readable archive or a document fails; the documents read
// before it are returned with it.
func FromReceived(m *mssante.Received) ([]Document, error) {
	if m == nil || m.XDM == nil {
		var cause error
		if m != nil {
			cause = m.XDMErr
		}
		if cause == nil {
			cause = errors.New("no IHE_XDM.ZIP archive")
		}
		return nil, fmt.Errorf("%w: %w", ErrDocument, cause)
	}
	var out []Document
	for _, xd := range m.XDM.Documents {
		rc, err := xd.Open()
		if err != nil {
			return out, fmt.Errorf("%w %s: %w", ErrDocument, xd.Name, err)
		}
		doc, err := cda.ReadHeader(rc, nil)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return out, fmt.Errorf("%w %s: %w", ErrDocument, xd.Name, err)
		}
		out = append(out, FromHeader(m, doc))
	}
	return out, nil
}

// FromHeader makes the Document of a CDA header read from a message
// (m may be nil when the document did not come by e-mail).
func FromHeader(m *mssante.Received, doc *cda.Document) Document {
	h := &doc.Header
	d := Document{
		ID:         h.ID,
		SetID:      h.SetID,
		Version:    h.Version,
		Type:       h.Type,
		PatientErr: doc.PatientErr,
	}
	if h.Replaces != nil {
		r := *h.Replaces
		d.Replaces = &r
	}
	if c, ok := nos.ClassForType(h.Type.Code); ok {
		d.Class = c.Code
	}
	if doc.Patient != nil {
		d.Patient = doc.Patient.Identity
		d.Patient.Status = "" // never trusted as qualified here
		d.Patient.LocalIDs = nil
	}
	if m != nil {
		d.MessageID = m.MessageID
		d.INSHeader = strings.ToUpper(strings.TrimSpace(m.MSS.INS))
		if m.PatientID != nil {
			cx := *m.PatientID
			d.SubmissionPatient = &cx
		}
	}
	return d
}

func itoa(n int) string {
	if n >= 0 && n < 10 {
		return string(rune('0' + n))
	}
	return fmt.Sprint(n)
}
