// Command quickstart is the README's main job: an end-to-end walk through
// gomss on built-in test data, with no server and no network.
//
// For now it covers the first step of an MSSanté exchange, identifying the
// patient: it validates the matricule INS of an ANS test identity, checks
// that only the qualified identity may emit it, and prints the CDA
// recordTarget and the XDS patientId that a document about this patient
// carries. Later steps (CDA document, IHE XDM archive, MSSanté message, send
// and receive on the embedded test operator, acknowledgement, trace) are
// added as the corresponding packages land.
//
// Usage:
//
//	go run ./examples/quickstart [-out DIR]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/beevik/etree"
	"github.com/ecdaf744/gomss/ins"
)

func main() {
	out := flag.String("out", "", "directory where the produced files (recordTarget.xml) are written")
	flag.Parse()
	if err := run(os.Stdout, *out); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, outDir string) error {
	start := time.Now()
	step := func(n int, format string, args ...any) {
		fmt.Fprintf(w, "%d. "+format+"\n", append([]any{n}, args...)...)
	}

	// 1. The identity as the DPI holds it after an INSi call: recovered, not
	// yet checked against an identity document. The matricule is the ANS
	// test patient's (INS-NIR de test, TestContenuCDA 3.0).
	m, err := ins.ParseMatricule("279035121518989")
	if err != nil {
		return err
	}
	p := m.Place()
	step(1, "matricule INS %s valid: sex %s, born %02d/%02d, place %s (%s), key %02d",
		m, m.Sex(), m.BirthMonth(), m.BirthYear(), p.Code, p.Kind, m.Key())

	id := ins.Identity{
		Status: ins.Recovered,
		INS:    ins.INS{Matricule: m, Authority: ins.AuthorityNIRTest},
		Traits: ins.Traits{
			BirthFamilyName: "PAT-TROIS", FirstBirthGivenName: "DOMINIQUE", BirthGivenNames: "DOMINIQUE MARIE-LOUISE",
			BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28}, Sex: ins.Female, BirthPlace: "51215", BirthPlaceName: "DOMPREMY",
		},
		LocalIDs: []ins.LocalID{{Value: "1234567890121", Authority: "1.2.3.4.567.8.9.10"}},
	}
	if _, err := id.PatientID(); !errors.Is(err, ins.ErrNotQualified) {
		return fmt.Errorf("a recovered identity must not emit its INS, got %v", err)
	}
	step(2, "identity status %s: INS withheld as required (%v)", id.Status, "RNIV EXI SI 08")

	id.Status = ins.Qualified
	if err := id.Validate(); err != nil {
		return err
	}
	if c := id.Coherence(); len(c) > 0 {
		return fmt.Errorf("traits contradict the matricule: %v", c)
	}
	step(3, "identity qualified (INSi + identity document): traits complete and coherent with the matricule")

	rt, err := id.RecordTarget()
	if err != nil {
		return err
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(rt)
	doc.Indent(2)
	xml, err := doc.WriteToString()
	if err != nil {
		return err
	}
	step(4, "CDA recordTarget (%d bytes):\n%s", len(xml), xml)

	cx, err := id.PatientID()
	if err != nil {
		return err
	}
	src, _ := id.SourcePatientID()
	step(5, "XDS metadata: patientId %s\n   sourcePatientId %s", cx, src)
	for _, l := range id.SourcePatientInfo() {
		fmt.Fprintf(w, "   sourcePatientInfo %s\n", l)
	}
	addr, err := id.MonEspaceSanteAddress()
	if err != nil {
		return err
	}
	step(6, "Mon espace santé address: %s", addr)

	if outDir != "" {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return err
		}
		fn := filepath.Join(outDir, "recordTarget.xml")
		if err := os.WriteFile(fn, []byte(xml), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "wrote %s\n", fn)
	}
	fmt.Fprintf(w, "done in %v\n", time.Since(start).Round(time.Microsecond))
	return nil
}
