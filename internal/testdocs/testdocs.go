// SPDX-License-Identifier: Apache-2.0

// Package testdocs builds the fictitious patients, headers and PDF bodies
// that the tests of several packages (cda, xdm, mssante) and the quickstart
// share. Every person here is invented; the INS use the test and
// demonstration authorities unless a case needs a production OID, and then
// the matricule is generated (valid key) for a person who does not exist.
package testdocs

import (
	"bytes"
	"fmt"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/cda"
)

// Paris is the zone documents are written in (UTC+1 in winter, +2 in
// summer); tests must not depend on the machine's zone.
var Paris = time.FixedZone("CET", 3600)

// matricule completes a 13-character NIR with its control key.
func matricule(nir13 string) ins.Matricule {
	k, err := ins.ControlKey(nir13)
	if err != nil {
		panic(err)
	}
	m, err := ins.ParseMatricule(fmt.Sprintf("%s%02d", nir13, k))
	if err != nil {
		panic(err)
	}
	return m
}

// Patient is a fictitious qualified identity. kind selects the authority:
// "test" (INS-NIR de test, the ANS test patient PAT-TROIS DOMINIQUE of the
// TestContenuCDA examples), "nir" (INS-NIR), "nia" (INS-NIA), "demo"
// (démonstration). withIPP adds the local identifier.
func Patient(kind string, withIPP bool) *ins.Identity {
	id := &ins.Identity{Status: ins.Qualified}
	switch kind {
	case "test":
		id.INS = ins.INS{Matricule: matricule("2790351215189"), Authority: ins.AuthorityNIRTest}
		id.Traits = ins.Traits{
			BirthFamilyName: "PAT-TROIS", FirstBirthGivenName: "DOMINIQUE",
			BirthGivenNames: "DOMINIQUE MARIE-LOUISE", BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28},
			Sex: ins.Female, BirthPlace: "51215", BirthPlaceName: "DOMPREMY",
			UsedFamilyName: "PAT-TROIS", UsedGivenName: "DOMINIQUE",
		}
	case "nir":
		id.INS = ins.INS{Matricule: matricule("1850775056042"), Authority: ins.AuthorityNIR}
		id.Traits = ins.Traits{
			BirthFamilyName: "FICTIF", FirstBirthGivenName: "JEAN",
			BirthGivenNames: "JEAN PAUL", BirthDate: ins.Date{Year: 1985, Month: 7, Day: 14},
			Sex: ins.Male, BirthPlace: "75056", BirthPlaceName: "PARIS",
		}
	case "nia":
		id.INS = ins.INS{Matricule: matricule("2920799352017"), Authority: ins.AuthorityNIA}
		id.Traits = ins.Traits{
			BirthFamilyName: "ESSAI-NIA", FirstBirthGivenName: "AMINATA",
			BirthGivenNames: "AMINATA", BirthDate: ins.Date{Year: 1992, Month: 7, Day: 2},
			Sex: ins.Female, BirthPlace: "99352",
			UsedFamilyName: "DURAND",
		}
	case "demo":
		id.INS = ins.INS{Matricule: matricule("1960188160012"), Authority: ins.AuthorityNIRDemo}
		id.Traits = ins.Traits{
			BirthFamilyName: "PAT-DEMO", FirstBirthGivenName: "ÉLODIE-ANNE",
			BirthGivenNames: "ÉLODIE-ANNE", BirthDate: ins.Date{Year: 1996, Month: 1, Day: 24},
			Sex: ins.Male, BirthPlace: "88160", BirthPlaceName: "ÉPINAL",
		}
	default:
		panic("testdocs: unknown patient kind " + kind)
	}
	if withIPP {
		id.LocalIDs = []ins.LocalID{{Value: "1234567890121", Authority: "1.2.3.4.567.8.9.10"}}
	}
	return id
}

// Doctor is a fictitious physician author (IDNPS 8+RPPS) of a fictitious
// practice.
func Doctor() *cda.Person {
	return &cda.Person{
		ID:        cda.II{Extension: "801234567890"},
		Name:      cda.Name{Prefix: "M", Given: "Marcel", Family: "CAMPARINI", Suffix: "DR"},
		Specialty: cda.Code{Code: "G15_10/SM26", System: "1.2.250.1.213.1.1.4.5"},
		Organization: &cda.Organization{
			ID: cda.II{Extension: "1750803447"}, Name: "Centre de santé des Lilas",
		},
	}
}

// Header returns a valid header for patient p, created at created, of
// document type typeCode (JDV_J07), authored by Doctor.
func Header(p *ins.Identity, typeCode string, created time.Time) *cda.Header {
	doc := Doctor()
	return &cda.Header{
		ID:            cda.II{Root: "1.2.250.1.999.1.1.4242", Extension: created.Format("20060102150405")},
		Type:          cda.Code{Code: typeCode},
		Title:         "Compte rendu de consultation",
		EffectiveTime: cda.At(created),
		Patient:       p,
		Authors:       []cda.Author{{Time: cda.At(created), Person: doc}},
		Custodian:     *doc.Organization,
		LegalAuthenticator: cda.LegalAuthenticator{
			Time: cda.At(created), Person: *doc,
		},
		ServiceEvents: []cda.ServiceEvent{{
			Low: cda.At(created.Add(-time.Hour)), High: cda.At(created.Add(-30 * time.Minute)),
			PracticeSetting: cda.Code{Code: "AMBULATOIRE"},
		}},
		Encounter: cda.Encounter{
			Low:          cda.At(created.Add(-time.Hour)),
			FacilityType: cda.Code{Code: "SA07"},
		},
	}
}

// PDF returns a well-formed PDF of about size bytes (at least a few
// hundred): one page saying text, padded with a deterministic binary
// stream so that compression behaves as on a scanned report.
func PDF(text string, size int) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>")
	content := fmt.Sprintf("BT /F1 14 Tf 72 760 Td (%s) Tj ET", text)
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	pad := size - b.Len() - 200
	if pad > 0 {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n<< /Length %d >>\nstream\n", len(offsets), pad)
		x := uint32(2463534242)
		for i := 0; i < pad; i++ {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			// mostly incompressible, with some structure like an image
			if i%7 == 0 {
				b.WriteByte(0)
			} else {
				b.WriteByte(byte(x))
			}
		}
		b.WriteString("\nendstream\nendobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}
