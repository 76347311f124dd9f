// SPDX-License-Identifier: Apache-2.0

package xdm_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/internal/testenv"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/stretchr/testify/require"
)

// matrix returns the archives the ANS validators judge: PDF and text
// bodies; INS-NIR, INS-NIA, test and demonstration OIDs; with and without
// IPP; a non-qualified identity; several document types; several authors;
// a device author; a replacement; masking codes; service event codes; two
// documents in one archive; summer time.
func matrix() map[string][]doc {
	text := func(s string) cda.Body { return cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader(s)} }
	summer := time.Date(2026, 7, 14, 8, 5, 0, 0, time.FixedZone("CEST", 7200))
	m := map[string][]doc{}
	add := func(name string, h *cda.Header, body cda.Body, opts *xdm.DocumentOptions) {
		m[name] = append(m[name], doc{h: h, body: body, opts: opts})
	}
	add("01-test-ipp-pdf-consultation", testdocs.Header(testdocs.Patient("test", true), "11488-4", created), pdfBody(4000), nil)
	add("02-test-noipp-text-ldl", testdocs.Header(testdocs.Patient("test", false), "11490-0", created), text("Lettre de liaison.\n"), nil)
	add("03-nir-ipp-pdf-imagerie", testdocs.Header(testdocs.Patient("nir", true), "18748-4", created), pdfBody(4000), nil)
	add("04-nia-noipp-pdf-biologie", testdocs.Header(testdocs.Patient("nia", false), "11502-2", created), pdfBody(4000), nil)
	add("05-demo-ipp-text-prescription", testdocs.Header(testdocs.Patient("demo", true), "57833-6", created), text("Paracétamol 1 g.\n"), nil)

	h := testdocs.Header(testdocs.Patient("test", true), "34112-3", created)
	second := testdocs.Doctor()
	second.ID.Extension = "801234567893"
	second.Name = cda.Name{Prefix: "MME", Given: "Roberta", Family: "BLEEDER", Suffix: "PR"}
	second.Specialty = cda.Code{Code: "G15_10/SM03"}
	h.Authors = append(h.Authors, cda.Author{Time: cda.At(created), Person: second, Function: cda.Code{Code: "ATTPHYS", System: "2.16.840.1.113883.5.88", Display: "Médecin traitant"}})
	add("06-two-authors-crh", h, pdfBody(4000), nil)

	h = testdocs.Header(testdocs.Patient("nir", false), "11488-4", created)
	h.Authors = []cda.Author{{Time: cda.At(created), Device: &cda.Device{
		ID: cda.II{Root: "1.2.250.1.999.2.1", Extension: "LPS-1"}, Model: "gomss-test", Software: "gomss 0.1",
		Organization: testdocs.Doctor().Organization,
	}}}
	h.ServiceEvents[0].Performer = testdocs.Doctor()
	add("07-device-author", h, pdfBody(4000), nil)

	orig := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	h = testdocs.Header(testdocs.Patient("test", true), "11488-4", created.Add(2*time.Hour))
	h.SetID, h.Version, h.Replaces = orig.ID, 2, &orig.ID
	add("08-replacement", h, pdfBody(4000), nil)

	h = testdocs.Header(testdocs.Patient("demo", false), "11488-4", created)
	h.Confidentiality = cda.Code{Code: "R"}
	add("09-restricted-masked", h, pdfBody(4000), &xdm.DocumentOptions{Masking: []xdm.Code{
		{Code: "MASQUE_PS", Scheme: "1.2.250.1.213.1.1.4.13"}, {Code: "INVISIBLE_PATIENT", Scheme: "1.2.250.1.213.1.1.4.13"},
	}})

	p := testdocs.Patient("test", true)
	p.Status = ins.Provisional
	add("10-provisional-ipp-only", testdocs.Header(p, "11488-4", created), pdfBody(4000), nil)

	h = testdocs.Header(testdocs.Patient("nia", true), "11502-2", created)
	h.ServiceEvents[0].Code = cda.Code{Code: "18723-7", System: "2.16.840.1.113883.6.1", Display: "Hématologie"}
	ev2 := h.ServiceEvents[0]
	ev2.Code = cda.Code{Code: "18719-5", System: "2.16.840.1.113883.6.1", Display: "Chimie"}
	h.ServiceEvents = append(h.ServiceEvents, ev2)
	add("11-event-codes", h, pdfBody(4000), nil)

	p = testdocs.Patient("nir", true)
	add("12-two-documents", testdocs.Header(p, "96349-6", created), pdfBody(4000), nil)
	h = testdocs.Header(p, "60591-5", created.Add(time.Minute))
	h.Title = "Synthèse médicale"
	add("12-two-documents", h, text("Synthèse.\n"), nil)

	h = testdocs.Header(testdocs.Patient("test", false), "11488-4", summer)
	h.ServiceEvents[0].Low = cda.TS{Time: summer.Add(-time.Hour), Precision: cda.Minute}
	h.ServiceEvents[0].High = cda.TS{}
	h.Encounter.Low = cda.OnDay(summer)
	add("13-summer-minute-day-precision", h, pdfBody(4000), nil)
	return m
}

// TestANSValidators writes every archive of the matrix, then runs the ANS
// kit once on all the CDA documents (CDA schema + StrucMin) and once on all
// the archives' METADATA.XML (ebRS 3.0 schemas), each with a negative
// control that must fail, proving the validator is awake.
func TestANSValidators(t *testing.T) {
	kit := os.Getenv("MSS_CDA_KIT")
	if kit == "" {
		testenv.Missing(t, "cda-kit", "MSS_CDA_KIT is not set")
		return
	}
	for _, s := range []string{"validate-cda.sh", "validate-metadata.sh"} {
		if _, err := os.Stat(filepath.Join(kit, s)); err != nil {
			testenv.Missing(t, "cda-kit", err.Error())
			return
		}
	}
	testenv.LookPath(t, "java", "java")
	testenv.LookPath(t, "xmllint", "xmllint")
	testenv.LookPath(t, "unzip", "unzip")

	cdaDir, zipDir := t.TempDir(), t.TempDir()
	nDocs, nZips := 0, 0
	var firstCDA []byte
	for name, docs := range matrix() {
		data, meta := archive(t, docs...)
		nZips++
		require.NoError(t, os.WriteFile(filepath.Join(zipDir, name+".zip"), data, 0o644))
		a := open(t, data)
		require.NoError(t, a.Verify(), "%s", name)
		if len(a.Documents) != len(docs) || len(meta.Documents) != len(docs) {
			t.Fatalf("%s: %d documents read, %d written", name, len(a.Documents), len(docs))
		}
		for i, d := range a.Documents {
			rc, _ := d.Open()
			b, err := io.ReadAll(rc)
			if cerr := rc.Close(); err == nil {
				err = cerr
			}
			require.NoError(t, err)
			if firstCDA == nil {
				firstCDA = b
			}
			nDocs++
			require.NoError(t, os.WriteFile(filepath.Join(cdaDir, fmt.Sprintf("%s-%d.xml", name, i+1)), b, 0o644))
		}
	}
	if nDocs < 12 {
		t.Fatalf("matrix too small: %d documents", nDocs)
	}
	// Negative controls.
	badCDA := filepath.Join(t.TempDir(), "zz-no-realm.xml")
	os.WriteFile(badCDA, bytes.Replace(firstCDA, []byte(`<realmCode code="FR"/>`), nil, 1), 0o644)
	badMeta := filepath.Join(t.TempDir(), "zz-slot-after-name.xml")
	var mb bytes.Buffer
	(&xdm.Metadata{SubmissionSet: xdm.SubmissionSet{EntryUUID: "urn:uuid:x", Title: "t", SubmissionTime: "20260101000000"}}).WriteTo(&mb)
	os.WriteFile(badMeta, []byte(strings.Replace(mb.String(), "</rim:Name>", "</rim:Name><rim:Slot name=\"late\"><rim:ValueList><rim:Value>x</rim:Value></rim:ValueList></rim:Slot>", 1)), 0o644)

	run := func(script string, args ...string) string {
		cmd := exec.Command("bash", append([]string{filepath.Join(kit, script)}, args...)...)
		if os.Getenv("CDA_KIT_CACHE") == "" {
			cmd.Env = append(os.Environ(), "CDA_KIT_CACHE="+filepath.Join(os.TempDir(), "gomss-cda-kit-cache"))
		}
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	summary := regexp.MustCompile(`(\d+) passed, (\d+) failed`)
	check := func(what, out string, pass int, badName string) {
		m := summary.FindStringSubmatch(out)
		if m == nil || m[1] != fmt.Sprint(pass) || m[2] != "1" {
			t.Errorf("%s: want %d passed, 1 failed (the negative control):\n%s", what, pass, out)
			return
		}
		if !regexp.MustCompile(`FAIL \S*` + regexp.QuoteMeta(badName)).MatchString(out) {
			t.Errorf("%s: the failure is not the negative control:\n%s", what, out)
		}
		t.Logf("%s: %s passed, 0 failed + negative control rejected", what, m[1])
	}
	check("validate-cda.sh (CDA schema + StrucMin)", run("validate-cda.sh", cdaDir, badCDA), nDocs, "zz-no-realm.xml")
	zips, _ := filepath.Glob(filepath.Join(zipDir, "*.zip"))
	check("validate-metadata.sh (ebRS 3.0)", run("validate-metadata.sh", append(zips, badMeta)...), nZips, "zz-slot-after-name.xml")
}

// The archives of the matrix also read back through archive/zip with the
// expected layout (no validator needed).
func TestMatrixLayout(t *testing.T) {
	for name, docs := range matrix() {
		data, _ := archive(t, docs...)
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		require.NoError(t, err)
		if n := len(zr.File); n != 3+len(docs) {
			t.Errorf("%s: %d entries", name, n)
		}
	}
}
