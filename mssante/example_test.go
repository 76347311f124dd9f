// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"bytes"
	"fmt"
	"log"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

// Send a consultation report: build the message, then check it as a
// receiver would.
func ExampleMessage_WriteTo() {
	header, err := reportHeader() // a valid CDA header about a qualified patient
	if err != nil {
		log.Fatal(err)
	}
	m := &mssante.Message{
		From: mssante.Sender{Address: "marcel.camparini@lilas.mssante.fr", Kind: mssante.Personal,
			Title: "Dr", GivenName: "Marcel", FamilyName: "Camparini"},
		To:        []string{"secretariat@chu-exemple.mssante.fr"},
		Text:      "Bonjour, voici le compte rendu.",
		Documents: []mssante.Document{{Header: header, PDF: mssante.BytesOpener([]byte(reportPDF))}},
		XDM: xdm.Options{SourceID: "1.2.250.1.999.1.2", // the sending system's OID
			ContentType: xdm.Code{Code: "04"}, Organization: "Centre de santé des Lilas"}, // JDV_J03
		Product:     "DEV935997", // X-MSS-NIL
		ReadReceipt: true,
		DSN:         mssante.DSN{Notify: []string{"SUCCESS", "FAILURE"}, Return: "HDRS"},
	}
	var eml bytes.Buffer
	if _, err := m.WriteTo(&eml); err != nil {
		log.Fatal(err)
	}

	r, err := mssante.Parse(&eml, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.From.Name)
	fmt.Println(r.DisplaySubject())
	fmt.Println(r.MSS.CodeCDA, r.MSS.INS, r.MSS.NIL)
	fmt.Println(r.PatientID, len(r.Check()), "problems")
	// Output:
	// Dr_Marcel_CAMPARINI
	// Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979
	// [11488-4] O DEV935997
	// 279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH 0 problems
}

// Receive a consultation report in a hospital's mailbox: parse the message
// as the IMAP server returns it (with the Return-Path its MTA added), read
// the MSSanté headers of Ref#2 ECO.2.4 (X-MSS-CODECDA, X-MSS-INS,
// X-MSS-NIL), identify the patient by the INS of the XDM metadata
// (ECO.2.1.2; here the ANS test patient, whose authority is the fictitious
// INS-NIR de test, which a production system must refuse), check every
// document of IHE_XDM.ZIP against its size and SHA-1, and list the rules
// of the référentiel the message breaks before integrating it.
func ExampleParse() {
	raw, err := receivedReport()
	if err != nil {
		log.Fatal(err)
	}

	r, err := mssante.Parse(bytes.NewReader(raw), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("from:", r.From.Name, "<"+r.From.Address+">")
	fmt.Println("document message:", r.IsDocumentMessage())
	fmt.Println("X-MSS-CODECDA:", r.MSS.CodeCDA)
	fmt.Println("X-MSS-INS:", r.MSS.INS)
	fmt.Println("X-MSS-NIL:", r.MSS.NIL)
	if r.XDM == nil || r.PatientID == nil {
		log.Fatalf("IHE_XDM.ZIP unreadable or without a patient: %v", r.XDMErr)
	}
	fmt.Println("patient:", r.PatientID.ID, ins.Authority(r.PatientID.Authority).TypeCode())
	fmt.Println("fictitious patient:", r.PatientID.Fictitious())
	for _, d := range r.XDM.Documents {
		fmt.Println("document:", d.Name, d.Entry.MimeType, d.Entry.Type.Code)
	}
	if err := r.XDM.Verify(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("archive verified")
	fmt.Println("broken rules:", len(r.Check()))
	// Output:
	// from: Dr_Marcel_CAMPARINI <marcel.camparini@lilas.mssante.fr>
	// document message: true
	// X-MSS-CODECDA: [11488-4]
	// X-MSS-INS: O
	// X-MSS-NIL: DEV935997
	// patient: 279035121518989 INS-NIR-TEST
	// fictitious patient: true
	// document: IHE_XDM/SUBSET01/DOC0001.XML text/xml 11488-4
	// archive verified
	// broken rules: 0
}

// receivedReport is a consultation report from Dr Camparini's personal BAL
// (built as in ExampleMessage_WriteTo, with a fixed Message-ID and date),
// as the receiving mailbox holds it: with the Return-Path its MTA recorded.
func receivedReport() ([]byte, error) {
	header, err := reportHeader()
	if err != nil {
		return nil, err
	}
	m := &mssante.Message{
		From: mssante.Sender{Address: "marcel.camparini@lilas.mssante.fr", Kind: mssante.Personal,
			Title: "Dr", GivenName: "Marcel", FamilyName: "Camparini"},
		To:          []string{"secretariat@chu-exemple.mssante.fr"},
		MessageID:   "<20261124103000.1@lilas.mssante.fr>",
		Date:        time.Date(2026, 11, 24, 10, 30, 0, 0, time.FixedZone("CET", 3600)),
		Text:        "Bonjour, voici le compte rendu.",
		Documents:   []mssante.Document{{Header: header, PDF: mssante.BytesOpener([]byte(reportPDF))}},
		XDM:         xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
		Product:     "DEV935997",
		ReadReceipt: true,
	}
	var eml bytes.Buffer
	eml.WriteString("Return-Path: <marcel.camparini@lilas.mssante.fr>\r\n")
	if _, err := m.WriteTo(&eml); err != nil {
		return nil, err
	}
	return eml.Bytes(), nil
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
