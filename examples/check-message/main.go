// SPDX-License-Identifier: Apache-2.0

// Command check-message reads a received MSSanté message on its standard
// input and tells what a receiving application must know before filing it:
// the Ref#2 rules it breaks, whether its IHE_XDM archive is intact and
// which patient it is about. It is the README's example.
package main

import (
	"fmt"
	"log"
	"os"

	"github.com/ecdaf744/gomss/mssante"
)

func main() {
	m, err := mssante.Parse(os.Stdin, nil) // size limits: mssante.ParseOptions
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("subject:", m.DisplaySubject())
	for _, p := range m.Check() {
		fmt.Println("problem:", p) // Ref#2 rule, field, what is wrong
	}
	if m.XDM != nil {
		fmt.Println("archive intact:", m.XDM.Verify() == nil) // SHA-1 and size of each document
	}
	if m.PatientID != nil {
		fmt.Println("patient:", m.PatientID) // the INS, as HL7 CX
	}
}
