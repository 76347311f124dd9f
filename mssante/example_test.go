package mssante_test

import (
	"bytes"
	"fmt"

	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
)

// Send a consultation report: build the message, then check it as a
// receiver would.
func ExampleMessage_WriteTo() {
	header := testdocs.Header(testdocs.Patient("test", true), "11488-4", created) // a valid cda.Header
	m := &mssante.Message{
		From: mssante.Sender{Address: "marcel.camparini@lilas.mssante.fr", Kind: mssante.Personal,
			Title: "Dr", GivenName: "Marcel", FamilyName: "Camparini"},
		To:          []string{"secretariat@chu-exemple.mssante.fr"},
		Text:        "Bonjour, voici le compte rendu.",
		Documents:   []mssante.Document{{Header: header, PDF: mssante.BytesOpener(testdocs.PDF("CR", 2000))}},
		XDM:         xdmOptions(), // SourceID, ContentType (JDV_J03)
		Product:     "DEV935997",  // X-MSS-NIL
		ReadReceipt: true,
		DSN:         mssante.DSN{Notify: []string{"SUCCESS", "FAILURE"}, Return: "HDRS"},
	}
	var eml bytes.Buffer
	if _, err := m.WriteTo(&eml); err != nil {
		fmt.Println(err)
		return
	}
	r, _ := mssante.Parse(&eml, nil)
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
