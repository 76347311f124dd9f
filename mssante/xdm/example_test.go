// SPDX-License-Identifier: Apache-2.0

package xdm_test

import (
	"bytes"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

// Wrap a PDF report in an IHE_XDM.ZIP, then open the archive as a receiver
// would and verify the document against its metadata.
func ExampleNewWriter() {
	header, err := reportHeader()
	if err != nil {
		log.Fatal(err)
	}

	var zip bytes.Buffer
	w, err := xdm.NewWriter(&zip, xdm.Options{
		SourceID:     "1.2.250.1.999.1.2",  // OID of the sending software instance
		ContentType:  xdm.Code{Code: "04"}, // JDV_J03
		Organization: "Centre de santé des Lilas",
		Application:  xdm.Application{Name: "MonDPI", Version: "3.2", Vendor: "Éditeur"},
	})
	if err != nil {
		log.Fatal(err)
	}
	entry, err := w.AddCDA(header, cda.Body{MediaType: cda.MediaTypePDF, Content: strings.NewReader(reportPDF)}, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(entry.URI, entry.PatientID)
	fmt.Println(entry.Class.Code, entry.Format.Code)

	a, err := xdm.OpenReader(bytes.NewReader(zip.Bytes()), int64(zip.Len()), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := a.Verify(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Subset, len(a.Documents), "document verified")
	// Output:
	// DOC0001.XML 279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH
	// 10 urn:ihe:iti:xds-sd:pdf:2008
	// IHE_XDM/SUBSET01 1 document verified
}

// reportHeader is the CDA header of a consultation report (see
// cda.ExampleWrite for its fields) about the ANS test patient PAT-TROIS
// DOMINIQUE, whose INS, qualified, is of the test authority that
// production systems refuse.
func reportHeader() (*cda.Header, error) {
	m, err := ins.ParseMatricule("279035121518989")
	if err != nil {
		return nil, err
	}
	patient := &ins.Identity{
		Status: ins.Qualified, // INSi called and identity document checked
		INS:    ins.INS{Matricule: m, Authority: ins.AuthorityNIRTest},
		Traits: ins.Traits{
			BirthFamilyName: "PAT-TROIS", FirstBirthGivenName: "DOMINIQUE", BirthGivenNames: "DOMINIQUE MARIE-LOUISE",
			BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28}, Sex: ins.Female, BirthPlace: "51215",
		},
	}
	doctor := &cda.Person{
		ID:           cda.II{Extension: "801234567890"}, // 8 + RPPS
		Name:         cda.Name{Given: "Marcel", Family: "CAMPARINI", Suffix: "DR"},
		Specialty:    cda.Code{Code: "G15_10/SM26"}, // JDV_J01
		Organization: &cda.Organization{ID: cda.II{Extension: "1750803447"}, Name: "Centre de santé des Lilas"},
	}
	at := cda.At(time.Date(2026, 11, 24, 10, 30, 0, 0, time.FixedZone("CET", 3600)))
	return &cda.Header{
		ID:                 cda.II{Root: "1.2.250.1.999.1.1.4242", Extension: "20261124-0001"},
		Type:               cda.Code{Code: "11488-4"}, // JDV_J07
		Title:              "Compte rendu de consultation",
		EffectiveTime:      at,
		Patient:            patient,
		Authors:            []cda.Author{{Time: at, Person: doctor}},
		Custodian:          *doctor.Organization,
		LegalAuthenticator: cda.LegalAuthenticator{Time: at, Person: *doctor},
		ServiceEvents:      []cda.ServiceEvent{{Low: at, PracticeSetting: cda.Code{Code: "AMBULATOIRE"}}},
		Encounter:          cda.Encounter{Low: at, FacilityType: cda.Code{Code: "SA07"}},
	}, nil
}

// reportPDF is a one-page PDF saying "Compte rendu de consultation".
const reportPDF = "%PDF-1.4\n" +
	"1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n" +
	"2 0 obj <</Type/Pages/Kids[3 0 R]/Count 1>> endobj\n" +
	"3 0 obj <</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>> endobj\n" +
	"4 0 obj <</Type/Font/Subtype/Type1/BaseFont/Helvetica>> endobj\n" +
	"5 0 obj <</Length 59>>stream\nBT /F1 14 Tf 72 770 Td (Compte rendu de consultation) Tj ET\nendstream endobj\n" +
	"xref\n0 6\n" +
	"0000000000 65535 f \n" +
	"0000000009 00000 n \n" +
	"0000000054 00000 n \n" +
	"0000000105 00000 n \n" +
	"0000000217 00000 n \n" +
	"0000000280 00000 n \n" +
	"trailer <</Size 6/Root 1 0 R>>\nstartxref\n386\n%%EOF\n"
