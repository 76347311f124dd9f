// SPDX-License-Identifier: Apache-2.0

package cda_test

import (
	"bytes"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante/cda"
)

// Build a level-1 CDA document (a consultation report as text) for a
// qualified patient, then read its header back.
func ExampleWrite() {
	m, err := ins.ParseMatricule("279035121518989")
	if err != nil {
		log.Fatal(err)
	}
	patient := &ins.Identity{
		Status: ins.Qualified,
		INS:    ins.INS{Matricule: m, Authority: ins.AuthorityNIRTest},
		Traits: ins.Traits{
			BirthFamilyName: "PAT-TROIS", FirstBirthGivenName: "DOMINIQUE", BirthGivenNames: "DOMINIQUE MARIE-LOUISE",
			BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28}, Sex: ins.Female, BirthPlace: "51215",
		},
	}
	paris := time.FixedZone("CET", 3600)
	now := time.Date(2026, 11, 24, 10, 30, 0, 0, paris)
	doctor := &cda.Person{
		ID:           cda.II{Extension: "801234567890"}, // 8 + RPPS
		Name:         cda.Name{Given: "Marcel", Family: "CAMPARINI", Suffix: "DR"},
		Specialty:    cda.Code{Code: "G15_10/SM26"}, // JDV_J01; system and label filled in
		Organization: &cda.Organization{ID: cda.II{Extension: "1750803447"}, Name: "Centre de santé des Lilas"},
	}
	h := &cda.Header{
		ID:                 cda.II{Root: "1.2.250.1.999.1.1.4242", Extension: "20261124-0001"},
		Type:               cda.Code{Code: "11488-4"}, // JDV_J07
		Title:              "Compte rendu de consultation",
		EffectiveTime:      cda.At(now),
		Patient:            patient,
		Authors:            []cda.Author{{Time: cda.At(now), Person: doctor}},
		Custodian:          *doctor.Organization,
		LegalAuthenticator: cda.LegalAuthenticator{Time: cda.At(now), Person: *doctor},
		ServiceEvents:      []cda.ServiceEvent{{Low: cda.At(now.Add(-time.Hour)), PracticeSetting: cda.Code{Code: "AMBULATOIRE"}}},
		Encounter:          cda.Encounter{Low: cda.At(now.Add(-time.Hour)), FacilityType: cda.Code{Code: "SA07"}},
	}
	var doc bytes.Buffer
	if err := cda.Write(&doc, h, cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("Examen normal.")}); err != nil {
		log.Fatal(err)
	}
	read, err := cda.ReadHeader(&doc, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(read.Header.Type.Display)
	fmt.Println(read.Header.EffectiveTime, "→ UTC", read.Header.EffectiveTime.UTC())
	fmt.Println(read.Patient.Identity.INS.Matricule, read.Level, read.MediaType)

	// An invalid header is refused, naming the rule it breaks; nothing is written.
	h.Title = ""
	err = cda.Write(&doc, h, cda.Body{MediaType: cda.MediaTypeText, Content: strings.NewReader("x")})
	fmt.Println(err)
	// Output:
	// CR ou fiche de consultation ou de visite
	// 20261124103000+0100 → UTC 20261124093000
	// 279035121518989 1 text/plain
	// cda: invalid header: title: the title is required (StrucMin SMDS_CDAClinicalDocument)
}
