// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/intake"
	"github.com/ecdaf744/gomss/trace"
)

// The DPI side of the example: a small patient index read from a file,
// a document store in the -out directory, and the handler that puts each
// received document through mssante/intake.

// defaultPatients is the patient index used without -patients: the ANS
// test patient (INS-NIR de test, qualified) and two other records.
//
//go:embed patients.csv
var defaultPatients []byte

// fileIndex is an intake.PatientIndex over a semicolon-separated file:
//
//	id;status;matricule;authority;birth family name;birth given names;first birth given name;birth date (YYYYMMDD);sex;birth place COG;test
//
// read once at start (a DPI would query its identity repository).
type fileIndex struct{ patients []intake.Patient }

func loadIndex(r io.Reader) (*fileIndex, error) {
	cr := csv.NewReader(r)
	cr.Comma, cr.Comment, cr.FieldsPerRecord = ';', '#', 11
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("patient index: %w", err)
	}
	x := &fileIndex{}
	for i, f := range rows {
		if i == 0 && f[0] == "id" {
			continue // header line
		}
		p := intake.Patient{ID: f[0], Test: f[10] == "1" || strings.EqualFold(f[10], "test")}
		id := &p.Identity
		if f[1] != "" {
			if id.Status, err = ins.ParseStatus(f[1]); err != nil {
				return nil, fmt.Errorf("patient index line %d: %w", i+1, err)
			}
		}
		if f[2] != "" {
			m, err := ins.ParseMatricule(f[2])
			if err != nil {
				return nil, fmt.Errorf("patient index line %d: %w", i+1, err)
			}
			a, err := ins.ParseAuthority(f[3])
			if err != nil {
				return nil, fmt.Errorf("patient index line %d: %w", i+1, err)
			}
			id.INS = ins.INS{Matricule: m, Authority: a}
		}
		t := &id.Traits
		t.BirthFamilyName, t.BirthGivenNames, t.FirstBirthGivenName = f[4], f[5], f[6]
		if f[7] != "" {
			if t.BirthDate, err = ins.ParseDate(f[7]); err != nil {
				return nil, fmt.Errorf("patient index line %d: %w", i+1, err)
			}
		}
		t.Sex, t.BirthPlace = ins.Sex(f[8]), f[9]
		if err := id.Validate(); err != nil {
			return nil, fmt.Errorf("patient index line %d (%s): %w", i+1, p.ID, err)
		}
		x.patients = append(x.patients, p)
	}
	return x, nil
}

// ByMatricule returns the records holding m, whatever their status.
func (x *fileIndex) ByMatricule(_ context.Context, m ins.Matricule) ([]intake.Patient, error) {
	var out []intake.Patient
	for _, p := range x.patients {
		if p.Identity.INS.Matricule == m {
			out = append(out, p)
		}
	}
	return out, nil
}

// ByTraits returns the records with the same birth date, or the same
// normalised birth family name or first given name.
func (x *fileIndex) ByTraits(_ context.Context, t *ins.Traits) ([]intake.Patient, error) {
	fam, first := ins.NormalizeName(t.BirthFamilyName), ins.NormalizeName(t.FirstBirthGivenName)
	var out []intake.Patient
	for _, p := range x.patients {
		lt := &p.Identity.Traits
		if (!t.BirthDate.IsZero() && lt.BirthDate == t.BirthDate) ||
			(fam != "" && ins.NormalizeName(lt.BirthFamilyName) == fam) ||
			(first != "" && ins.NormalizeName(lt.FirstBirthGivenName) == first) {
			out = append(out, p)
		}
	}
	return out, nil
}

// dirStore is an intake.Documents in a directory:
//
//	DIR/<patient id>/<document id>.xml, .pdf   the documents filed
//	DIR/<patient id>/history.csv              replaced versions (kept)
//	DIR/held.csv                              id;set id;version;patient of every document filed
//	DIR/incoming/<key>.xml                    received, not yet filed (Document.Ref)
//	DIR/worklist/<key>.txt                    why a document waits, and its candidates
type dirStore struct {
	dir  string
	mu   sync.Mutex
	held []intake.Held
}

func openStore(dir string) (*dirStore, error) {
	s := &dirStore{dir: dir}
	f, err := os.Open(filepath.Join(dir, "held.csv"))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), ";")
		if len(p) != 4 {
			continue
		}
		v, _ := strconv.Atoi(p[2])
		s.held = append(s.held, intake.Held{ID: parseII(p[0]), SetID: parseII(p[1]), Version: v, PatientID: p[3]})
	}
	return s, sc.Err()
}

func parseII(s string) cda.II {
	root, ext, _ := strings.Cut(s, "^")
	return cda.II{Root: root, Extension: ext}
}

// Held returns the documents filed with this id or set id.
func (s *dirStore) Held(_ context.Context, id, setID cda.II) ([]intake.Held, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []intake.Held
	for _, h := range s.held {
		if h.ID == id || h.SetID == setID {
			out = append(out, h)
		}
	}
	return out, nil
}

// File moves the received document (Document.Ref) into the patient's
// folder, writes its PDF, and records it as held; a replaced version stays
// where it is, listed in history.csv.
func (s *dirStore) File(_ context.Context, f intake.Filing) error {
	doc := f.Document
	b, err := os.ReadFile(doc.Ref)
	if err != nil {
		return err
	}
	pdir := filepath.Join(s.dir, fileName(f.Patient.ID))
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(pdir, fileName(doc.ID.String()))
	if err := os.WriteFile(base+".xml", b, 0o600); err != nil {
		return err
	}
	r := cda.NewReader(bytes.NewReader(b), nil)
	if h, err := r.Header(); err == nil && h.Level == 1 && h.MediaType == cda.MediaTypePDF {
		var pdf bytes.Buffer
		if _, err := r.Body(&pdf); err != nil {
			return err
		}
		if err := os.WriteFile(base+".pdf", pdf.Bytes(), 0o600); err != nil {
			return err
		}
	}
	if f.Replaces != nil {
		if err := appendLine(filepath.Join(pdir, "history.csv"), f.Replaces.ID.String()+";replaced by;"+doc.ID.String()); err != nil {
			return err
		}
	}
	set := doc.SetID
	if set.IsZero() {
		set = doc.ID
	}
	h := intake.Held{ID: doc.ID, SetID: set, Version: max(doc.Version, 1), PatientID: f.Patient.ID}
	if err := appendLine(filepath.Join(s.dir, "held.csv"), fmt.Sprintf("%s;%s;%d;%s", h.ID, h.SetID, h.Version, h.PatientID)); err != nil {
		return err
	}
	s.mu.Lock()
	s.held = append(s.held, h)
	s.mu.Unlock()
	return os.Remove(doc.Ref)
}

func appendLine(name, line string) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// handler puts every document of a message through the intake decision.
type handler struct {
	dc     *intake.Decider
	store  *dirStore
	stdout io.Writer
}

// handle reads each document of the archive once (its SHA-1 and size
// checked against METADATA.XML), stages it in incoming/, and lets
// Decider.Process file it, list it in the worklist or refuse it. The
// first integration error is returned, for the loop's MDN; documents on
// the worklist are acknowledged as taken in charge.
func (h *handler) handle(ctx context.Context, m *mssante.Received) error {
	if m.XDM == nil {
		return fmt.Errorf("%w (archive: %v)", mssante.IntegrationOther, m.XDMErr)
	}
	in := filepath.Join(h.store.dir, "incoming")
	if err := os.MkdirAll(in, 0o755); err != nil {
		return err
	}
	var first error
	for _, xd := range m.XDM.Documents {
		rc, err := xd.Open()
		if err != nil {
			return fmt.Errorf("%w (%v)", mssante.IntegrationOther, err)
		}
		b, err := io.ReadAll(rc)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%w (%v)", mssante.IntegrationOther, err)
		}
		hdr, err := cda.ReadHeader(bytes.NewReader(b), nil)
		if err != nil {
			return fmt.Errorf("%w (%v)", mssante.IntegrationOther, err)
		}
		doc := intake.FromHeader(m, hdr)
		doc.Ref = filepath.Join(in, fileName(doc.Key())+".xml")
		if err := os.WriteFile(doc.Ref, b, 0o600); err != nil {
			return err
		}
		d, err := h.dc.Process(ctx, &doc)
		if err != nil {
			return err // the trace could not be written: stop (fail closed)
		}
		h.report(m, d)
		switch d.Outcome {
		case intake.Worklist:
			if err := h.writeWorklist(d); err != nil {
				return err
			}
		case intake.Integrate, intake.Replace:
		default:
			os.Remove(doc.Ref)
		}
		if err := d.Err(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (h *handler) report(m *mssante.Received, d *intake.Decision) {
	doc := &d.Document
	switch d.Outcome {
	case intake.Integrate, intake.Replace:
		how := "automatically"
		if d.Outcome == intake.Replace {
			how += ", replacing version " + strconv.Itoa(d.Replaces.Version)
		}
		fmt.Fprintf(h.stdout, "integrated %s %s into patient %s (%s)\n", m.MessageID, doc.ID, d.Patient.ID, how)
	case intake.Worklist:
		fmt.Fprintf(h.stdout, "worklist %s %s: %s; %d candidate(s)\n", m.MessageID, doc.ID, reasons(d), len(d.Candidates))
	case intake.Duplicate:
		fmt.Fprintf(h.stdout, "duplicate %s %s: already integrated\n", m.MessageID, doc.ID)
	default:
		why := reasons(d)
		if a := doc.Patient.INS.Authority; a.IsFictitious() {
			why += fmt.Sprintf("; the patient's INS is from the test or demonstration authority %s (-test-patients accepts it)", a)
		}
		fmt.Fprintf(h.stdout, "refused %s %s: %v: %s\n", m.MessageID, doc.ID, d.Err(), why)
	}
}

func reasons(d *intake.Decision) string {
	var s []string
	for _, r := range d.Reasons {
		s = append(s, r.String())
	}
	if len(s) == 0 {
		return d.Outcome.String()
	}
	return strings.Join(s, "; ")
}

// writeWorklist writes why the document waits and its candidates, for the
// person who will resolve it (identifiers and scores, no traits).
func (h *handler) writeWorklist(d *intake.Decision) error {
	dir := filepath.Join(h.store.dir, "worklist")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "document %s version %d, message %s, staged %s\nreasons: %s\n",
		d.Document.ID, max(d.Document.Version, 1), d.Document.MessageID, d.Document.Ref, reasons(d))
	for _, c := range d.Candidates {
		fmt.Fprintf(&b, "candidate %s: score %.2f, found by INS %v, %s\n", c.Patient.ID, c.Score, c.ByINS, c.Comparison)
	}
	return os.WriteFile(filepath.Join(dir, fileName(d.Document.Key())+".txt"), []byte(b.String()), 0o600)
}

// newHandler opens the patient index and the store, and makes the
// Decider, tracing to the same log as the mailbox actions.
func newHandler(c config, actor trace.Actor, box trace.Mailbox, rec trace.Recorder, stdout io.Writer) (*handler, error) {
	src := io.Reader(bytes.NewReader(defaultPatients))
	if c.patients != "" {
		f, err := os.Open(c.patients)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		src = f
	}
	idx, err := loadIndex(src)
	if err != nil {
		return nil, err
	}
	store, err := openStore(c.out)
	if err != nil {
		return nil, err
	}
	dc, err := intake.New(intake.Config{Patients: idx, Documents: store, Trace: rec, Actor: actor, Mailbox: box,
		Software: "gomss receive-loop", Policy: intake.Policy{AcceptTestPatients: c.testPatients, AutoOnTraits: c.autoOnTraits}})
	if err != nil {
		return nil, err
	}
	return &handler{dc: dc, store: store, stdout: stdout}, nil
}
