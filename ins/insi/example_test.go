// SPDX-License-Identifier: Apache-2.0

package insi_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insi"
	"github.com/ecdaf744/gomss/ins/insitest"
)

// A DPI's first step: obtain the patient's INS from INSi (here the fake of
// ins/insitest), compare it with the local identity, qualify it once a
// person has checked an identity document.
func ExampleClient_Search() {
	m, err := ins.ParseMatricule("297027511300145")
	if err != nil {
		log.Fatal(err)
	}
	patient := ins.Traits{BirthFamilyName: "MARTIN", FirstBirthGivenName: "MARIE", BirthGivenNames: "MARIE",
		Sex: ins.Female, BirthDate: ins.Date{Year: 1997, Month: 2, Day: 12}, BirthPlace: "75113"}
	srv, err := insitest.NewServer(insitest.Options{People: []insitest.Person{{INS: ins.INS{Matricule: m, Authority: ins.AuthorityNIR}, Traits: patient}}})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	cred, err := insi.NewMTLS(srv.PKI.Auto.TLSCertificate()) // CN INSI-AUTO
	if err != nil {
		log.Fatal(err)
	}
	c, err := insi.New(insi.Config{
		Endpoint:    srv.URL, // insi.EndpointQualificationMTLS against the real service
		Software:    insi.Software{IDAM: "PDP17NF21DD0", Name: "MonDPI", Version: "4.2", Instance: "ff67308e-039f-4158-9dcc-0a08a20ba35c"},
		Credentials: cred,
		TLS:         srv.ClientTLSConfig(), // the IGC-Santé roots against the real service
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	local := ins.Identity{Status: ins.Provisional, Traits: ins.Traits{BirthFamilyName: "Martin", FirstBirthGivenName: "Marie",
		BirthGivenNames: "Marie", Sex: ins.Female, BirthDate: ins.Date{Year: 1997, Month: 2, Day: 12}, BirthPlace: "75113"}}
	sr, err := c.Search(context.Background(), local.Traits)
	if errors.Is(err, insi.ErrNotFound) {
		fmt.Println("not found with these traits")
		return
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println("calls:", len(sr.Attempts), "CR", sr.Result.CR, sr.Result.INS.Matricule, sr.Result.INS.Authority.TypeCode())
	for _, d := range insi.Compare(sr.Result, local) {
		fmt.Println(d) // shown to the user, who decides
	}
	recup, err := sr.Result.Identity()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("status:", recup.Status)
	qual, err := insi.Qualify(recup, insi.DocumentCheck{Document: insi.DocNationalIDCard, CheckedBy: "agent-accueil-7",
		CheckedAt: time.Now(), Consistent: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("status:", qual.Status)
	// Output:
	// calls: 1 CR 00 297027511300145 INS-NIR
	// NomNaissance differs (spelling only)
	// Prenom differs (spelling only)
	// ListePrenom differs (spelling only)
	// status: RECUP
	// status: QUAL
}
