// SPDX-License-Identifier: Apache-2.0

package ins_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/beevik/etree"
	"github.com/ecdaf744/gomss/ins"
)

// Read a matricule INS (NIR or NIA): its control key is checked, and a
// wrong one is reported with the key it should have.
func ExampleParseMatricule() {
	m, err := ins.ParseMatricule("279035121518989")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Sex(), m.BirthYear(), m.BirthMonth(), m.Place().Kind, m.Place().Code)

	_, err = ins.ParseMatricule("279035121518988")
	fmt.Println(err)
	fmt.Println(errors.Is(err, ins.ErrKey))
	// Output:
	// F 79 3 metropolitan 51215
	// ins: matricule "279035121518988": control key 88, want 89
	// true
}

// Write the patient's INS as the HL7 CX of XDS metadata: only a qualified
// identity may be (ANS Référentiel INS).
func ExampleIdentity_PatientID() {
	m, err := ins.ParseMatricule("162018885045327")
	if err != nil {
		log.Fatal(err)
	}
	id := ins.Identity{
		Status: ins.Recovered, // INSi called, identity document not yet checked
		INS:    ins.INS{Matricule: m, Authority: ins.AuthorityNIRTest},
		Traits: ins.Traits{BirthFamilyName: "PAT-SIX", FirstBirthGivenName: "Alain", BirthGivenNames: "Alain",
			BirthDate: ins.Date{Year: 1996, Month: 1, Day: 24}, Sex: ins.Male, BirthPlace: "88850"},
	}
	_, err = id.PatientID()
	fmt.Println(errors.Is(err, ins.ErrNotQualified))

	id.Status = ins.Qualified // after the identity document check
	cx, err := id.PatientID()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cx)
	// Output:
	// true
	// 162018885045327^^^&1.2.250.1.213.1.4.10&ISO^NH
}

// Write the patient as the recordTarget of a CDA header.
func ExampleIdentity_RecordTarget() {
	m, err := ins.ParseMatricule("279035121518989")
	if err != nil {
		log.Fatal(err)
	}
	id := ins.Identity{
		Status: ins.Qualified,
		INS:    ins.INS{Matricule: m, Authority: ins.AuthorityNIRTest},
		Traits: ins.Traits{BirthFamilyName: "PAT-TROIS", FirstBirthGivenName: "DOMINIQUE", BirthGivenNames: "DOMINIQUE MARIE-LOUISE",
			BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28}, Sex: ins.Female, BirthPlace: "51215"},
	}
	rt, err := id.RecordTarget()
	if err != nil {
		log.Fatal(err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(rt)
	doc.Indent(1)
	if _, err := doc.WriteTo(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// <recordTarget>
	//  <patientRole>
	//   <id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>
	//   <patient>
	//    <name>
	//     <family qualifier="BR">PAT-TROIS</family>
	//     <given qualifier="BR">DOMINIQUE</given>
	//     <given>DOMINIQUE MARIE-LOUISE</given>
	//    </name>
	//    <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1" displayName="Féminin"/>
	//    <birthTime value="19790328"/>
	//    <birthplace>
	//     <place>
	//      <addr>
	//       <county>51215</county>
	//      </addr>
	//     </place>
	//    </birthplace>
	//   </patient>
	//  </patientRole>
	// </recordTarget>
}
