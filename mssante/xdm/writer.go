// SPDX-License-Identifier: Apache-2.0

package xdm

import (
	"archive/zip"
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"html"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/nos"
)

// ArchiveName is the file name of the archive attached to an MSSanté
// message.
const ArchiveName = "IHE_XDM.ZIP"

// SubsetFolder is the folder this package writes the documents and
// METADATA.XML to.
const SubsetFolder = "IHE_XDM/SUBSET01"

// ErrWriter is wrapped by errors of the archive writer (bad options, a
// second patient, use after Close, use after a failure).
var ErrWriter = errors.New("xdm: writer")

// Application names the sending software, for README.TXT.
type Application struct {
	Name, Version, Vendor string
}

// Options configure an archive. SourceID and ContentType are required.
type Options struct {
	// SourceID is the OID of the sending system (XDS sourceId).
	SourceID string
	// SubmissionSetID is the submission set uniqueId (an OID); a fresh
	// 2.25.<UUID> OID when empty.
	SubmissionSetID string
	// ContentType is the submission set contentTypeCode, from JDV_J03
	// (System and Display are filled from the table when empty).
	ContentType Code
	// Title of the submission set; the title of the first document when
	// empty.
	Title string
	// Sender, Organization and Application are written in README.TXT and
	// INDEX.HTM.
	Sender       string
	Organization string
	Application  Application
	// Now gives the submission time (time.Now when nil).
	Now func() time.Time
}

// DocumentOptions tune one document entry.
type DocumentOptions struct {
	// Masking adds metadata-only confidentiality codes of JDV_J08
	// (MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX).
	Masking []Code
	// ReplacedEntryUUID is the entryUUID of the document a replacement
	// (header.Replaces) supersedes. When empty it is EntryUUIDFor the
	// replaced document's id, which is what this package assigned to it.
	ReplacedEntryUUID string
}

// Writer writes an IHE_XDM.ZIP archive: documents are streamed into the
// zip as they are added (hash and size computed on the way), and
// METADATA.XML, README.TXT and INDEX.HTM are written by Close.
//
// Errors come in two kinds. An error found before anything of the document
// is written to the zip (an invalid header, an unknown code, another
// patient, an AddDocument input whose header cannot be read or whose INS
// differs) leaves the Writer usable: the document is not added and the
// next one may be. An error once the document's zip entry is started (the
// body is not what its media type says, reading the body or writing to the
// underlying writer fails) or while Close writes the archive cannot be
// undone: the Writer is then failed, and every later Add and Close returns
// an error wrapping ErrWriter and that first error. The archive written so
// far is unusable and must be discarded; a failed Writer never writes the
// zip directory, so what was written is not a readable zip.
//
// A document's entry and its associations (RPLC) are recorded in the
// metadata only once the document is fully stored.
type Writer struct {
	zw      *zip.Writer
	opts    Options
	meta    Metadata
	hasINS  bool
	closed  bool
	err     error // first error that left the zip inconsistent
	started time.Time
}

// usable returns an error when the Writer is closed or failed.
func (w *Writer) usable() error {
	if w.err != nil {
		return fmt.Errorf("%w: an earlier call failed, the archive is unusable: %w", ErrWriter, w.err)
	}
	if w.closed {
		return fmt.Errorf("%w: closed", ErrWriter)
	}
	return nil
}

// fail puts the Writer in the failed state (the first error is kept) and
// returns err.
func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return err
}

// NewWriter starts an archive on w.
func NewWriter(w io.Writer, opts Options) (*Writer, error) {
	if !isOID(opts.SourceID) {
		return nil, fmt.Errorf("%w: SourceID %q must be the OID of the sending system", ErrWriter, opts.SourceID)
	}
	ct := opts.ContentType
	c, ok := nos.J03ContentType.Lookup(ct.Code)
	if !ok || (ct.Scheme != "" && !nos.J03ContentType.Contains(ct.Code, ct.Scheme)) {
		return nil, fmt.Errorf("%w: contentTypeCode %q (%s) is not in JDV_J03", ErrWriter, ct.Code, ct.Scheme)
	}
	if ct.Scheme == "" {
		ct.Scheme = c.System
	}
	if ct.Display == "" {
		ct.Display = c.Display
	}
	opts.ContentType = ct
	if opts.SubmissionSetID == "" {
		opts.SubmissionSetID = newOID()
	} else if !isOID(opts.SubmissionSetID) {
		return nil, fmt.Errorf("%w: SubmissionSetID %q is not an OID", ErrWriter, opts.SubmissionSetID)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Writer{zw: zip.NewWriter(w), opts: opts, started: opts.Now()}, nil
}

// AddCDA builds a level-1 CDA document from h and body (see cda.Write)
// straight into the archive as DOC000n.XML, and returns its entry. The
// body is read once and never held.
func (w *Writer) AddCDA(h *cda.Header, body cda.Body, opts *DocumentOptions) (*DocumentEntry, error) {
	if err := w.usable(); err != nil {
		return nil, err
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	p, err := w.prepare(h, body.MediaType, opts)
	if err != nil {
		return nil, err
	}
	return w.store(p, func(dst io.Writer) error { return cda.Write(dst, h, body) })
}

// AddDocument copies an existing CDA document (read from r, level 1 or 3)
// into the archive and derives its entry from its header. patient is the
// identity the sender vouches for: its INS must be the one in the document
// (a read INS is never trusted on its own), and it gives the patientId.
func (w *Writer) AddDocument(r io.Reader, patient *ins.Identity, opts *DocumentOptions) (*DocumentEntry, error) {
	if err := w.usable(); err != nil {
		return nil, err
	}
	// The header is read through a tee into a buffer, the whole document
	// is then streamed into the archive.
	var head strings.Builder
	tee := io.TeeReader(r, &head)
	doc, err := cda.ReadHeader(tee, nil)
	if err != nil {
		return nil, err
	}
	if doc.PatientErr != nil {
		return nil, fmt.Errorf("%w: the document's recordTarget: %w", ErrEntry, doc.PatientErr)
	}
	if patient == nil {
		return nil, fmt.Errorf("%w: no patient identity given", ErrEntry)
	}
	if read := doc.Patient.Identity.INS; !read.IsZero() {
		if read != patient.INS {
			return nil, fmt.Errorf("%w: the document's INS differs from the identity given", ErrEntry)
		}
	}
	h := doc.Header
	h.Patient = patient
	mediaType := ""
	if doc.Level == 1 {
		mediaType = doc.MediaType
	}
	p, err := w.prepare(&h, mediaType, opts)
	if err != nil {
		return nil, err
	}
	return w.store(p, func(dst io.Writer) error {
		if _, err := io.WriteString(dst, head.String()); err != nil {
			return err
		}
		_, err := io.Copy(dst, r)
		return err
	})
}

// pending is a document about to be stored: its entry, its replacement
// association if any, and whether its patientId is an INS. Nothing of it is
// recorded in the Writer until store succeeds.
type pending struct {
	entry  *DocumentEntry
	rplc   *Association
	hasINS bool
}

// prepare derives the entry and checks the one-patient rule. It changes
// nothing in the Writer.
func (w *Writer) prepare(h *cda.Header, mediaType string, opts *DocumentOptions) (*pending, error) {
	if err := w.usable(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &DocumentOptions{}
	}
	entry, err := NewDocumentEntry(h, mediaType, opts.Masking...)
	if err != nil {
		return nil, err
	}
	_, _, hasINS, _ := PatientIDs(h.Patient)
	if len(w.meta.Documents) > 0 && w.meta.Documents[0].PatientID != entry.PatientID {
		return nil, fmt.Errorf("%w: one patient per archive: this document's patientId differs from the first one's", ErrWriter)
	}
	p := &pending{entry: &entry, hasINS: hasINS}
	entry.EntryUUID = EntryUUIDFor(entry.UniqueID)
	if h.Replaces != nil {
		target := opts.ReplacedEntryUUID
		if target == "" {
			target = EntryUUIDFor(h.Replaces.String())
		}
		p.rplc = &Association{Type: AssociationReplace, Source: entry.EntryUUID, Target: target}
	}
	return p, nil
}

// store writes one document into the zip through a hash and a counter,
// then records its entry and association. Once the zip entry is created
// nothing can be undone: any error fails the Writer.
func (w *Writer) store(p *pending, write func(io.Writer) error) (*DocumentEntry, error) {
	entry := p.entry
	n := len(w.meta.Documents) + 1
	entry.URI = fmt.Sprintf("DOC%04d.XML", n)
	fw, err := w.zw.CreateHeader(&zip.FileHeader{
		Name: SubsetFolder + "/" + entry.URI, Method: zip.Deflate, Modified: w.started,
	})
	if err != nil {
		return nil, w.fail(err)
	}
	hw := &hashCounter{h: sha1.New()}
	bw := bufio.NewWriterSize(io.MultiWriter(fw, hw), 64<<10)
	if err := write(bw); err != nil {
		return nil, w.fail(err)
	}
	if err := bw.Flush(); err != nil {
		return nil, w.fail(err)
	}
	entry.Hash = hex.EncodeToString(hw.h.Sum(nil))
	entry.Size = hw.n
	w.meta.Documents = append(w.meta.Documents, *entry)
	if p.rplc != nil {
		w.meta.Associations = append(w.meta.Associations, *p.rplc)
	}
	w.hasINS = p.hasINS
	return entry, nil
}

type hashCounter struct {
	h hash.Hash
	n int64
}

func (c *hashCounter) Write(p []byte) (int, error) {
	c.h.Write(p)
	c.n += int64(len(p))
	return len(p), nil
}

// HasINS reports whether the archive's patientId is an INS (for the
// X-MSS-INS header).
func (w *Writer) HasINS() bool { return w.hasINS }

// Metadata returns the metadata as it stands (complete after Close).
func (w *Writer) Metadata() *Metadata { return &w.meta }

// Close writes METADATA.XML, README.TXT and INDEX.HTM and finishes the zip.
// It does not close the underlying writer. Closing an archive without
// documents is refused and leaves the Writer usable; a second Close after
// a successful one returns nil. On a failed Writer (see Writer) Close
// returns the wrapped first error and writes nothing; an error while Close
// writes fails the Writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.usable()
	}
	if w.closed {
		return nil
	}
	if len(w.meta.Documents) == 0 {
		return fmt.Errorf("%w: an archive needs at least one document", ErrWriter)
	}
	w.closed = true
	first := &w.meta.Documents[0]
	ss := &w.meta.SubmissionSet
	ss.EntryUUID = newUUID()
	ss.UniqueID = w.opts.SubmissionSetID
	ss.SourceID = w.opts.SourceID
	ss.SubmissionTime = w.opts.Now().UTC().Format("20060102150405")
	ss.PatientID = first.PatientID
	ss.ContentType = w.opts.ContentType
	ss.Title = w.opts.Title
	if ss.Title == "" {
		ss.Title = first.Title
	}
	if len(first.Authors) > 0 {
		ss.Authors = []Author{first.Authors[0]}
	}
	assoc := make([]Association, 0, len(w.meta.Documents)+len(w.meta.Associations))
	for _, d := range w.meta.Documents {
		assoc = append(assoc, Association{Type: AssociationHasMember, Source: ss.EntryUUID, Target: d.EntryUUID, SubmissionSetStatus: "Original"})
	}
	w.meta.Associations = append(assoc, w.meta.Associations...)
	for i := range w.meta.Associations {
		w.meta.Associations[i].ID = newUUID()
	}

	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{SubsetFolder + "/METADATA.XML", func(dst io.Writer) error { _, err := w.meta.WriteTo(dst); return err }},
		{"README.TXT", w.writeReadme},
		{"INDEX.HTM", w.writeIndex},
	}
	for _, f := range files {
		fw, err := w.zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: w.started})
		if err != nil {
			return w.fail(err)
		}
		if err := f.write(fw); err != nil {
			return w.fail(err)
		}
	}
	if err := w.zw.Close(); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *Writer) writeReadme(dst io.Writer) error {
	a := w.opts.Application
	var b strings.Builder
	b.WriteString("IHE XDM - Echange de documents de sante (MSSante)\r\n\r\n")
	fmt.Fprintf(&b, "Emetteur : %s\r\n", orDash(w.opts.Sender))
	fmt.Fprintf(&b, "Organisation : %s\r\n", orDash(w.opts.Organization))
	fmt.Fprintf(&b, "Application d'envoi : %s, version %s, editeur %s\r\n", orDash(a.Name), orDash(a.Version), orDash(a.Vendor))
	fmt.Fprintf(&b, "Date d'envoi (UTC) : %s\r\n\r\n", w.meta.SubmissionSet.SubmissionTime)
	b.WriteString("Contenu :\r\n  README.TXT    ce fichier\r\n  INDEX.HTM     sommaire\r\n")
	fmt.Fprintf(&b, "  %s/METADATA.XML  metadonnees XDS\r\n", SubsetFolder)
	for _, d := range w.meta.Documents {
		fmt.Fprintf(&b, "  %s/%s  %s (%d octets)\r\n", SubsetFolder, d.URI, d.Title, d.Size)
	}
	_, err := io.WriteString(dst, b.String())
	return err
}

func (w *Writer) writeIndex(dst io.Writer) error {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">` + "\n")
	b.WriteString(`<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="fr" lang="fr">` + "\n")
	b.WriteString("<head><title>IHE XDM</title></head>\n<body>\n")
	fmt.Fprintf(&b, "<h1>Documents transmis par %s</h1>\n", html.EscapeString(orDash(w.opts.Organization)))
	b.WriteString("<ul>\n")
	for _, d := range w.meta.Documents {
		fmt.Fprintf(&b, "<li><a href=\"%s/%s\">%s</a></li>\n", SubsetFolder, d.URI, html.EscapeString(d.Title))
	}
	b.WriteString("</ul>\n<p><a href=\"README.TXT\">README.TXT</a></p>\n</body>\n</html>\n")
	_, err := io.WriteString(dst, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func isOID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || (len(part) > 1 && part[0] == '0') {
			return false
		}
		for _, c := range part {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return strings.Contains(s, ".") && s[0] <= '2'
}

// newUUID returns a random (version 4) UUID as urn:uuid:….
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return "urn:uuid:" + formatUUID(b)
}

// newOID returns a fresh OID under 2.25 (ITU-T X.667: the UUID as an
// integer).
func newOID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return "2.25." + new(big.Int).SetBytes(b[:]).String()
}

// entryNamespace is the name-based UUID namespace of this package's
// entryUUIDs (a fixed random UUID).
var entryNamespace = [16]byte{0x5b, 0x1e, 0x0c, 0x3a, 0x8f, 0x42, 0x4d, 0x6e, 0x9a, 0x07, 0x21, 0xc4, 0xd3, 0x58, 0x6f, 0x90}

// EntryUUIDFor returns the entryUUID this package gives the document whose
// uniqueId is uniqueID: a name-based (version 5, SHA-1) UUID, so that a
// replacement can reference the entry of the document it replaces from its
// id alone.
func EntryUUIDFor(uniqueID string) string {
	h := sha1.New()
	h.Write(entryNamespace[:])
	h.Write([]byte(uniqueID))
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return "urn:uuid:" + formatUUID(b)
}

func formatUUID(b [16]byte) string {
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
