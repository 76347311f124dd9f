package mssante_test

import (
	"bytes"
	"fmt"

	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

// Send a consultation report: build the message, then check it as a
// receiver would.
func ExampleMessage_WriteTo() {
	// A valid CDA header about a qualified patient: see cda.ExampleWrite for
	// its fields (here a test helper builds one about the ANS test patient).
	header := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	m := &mssante.Message{
		From: mssante.Sender{Address: "marcel.camparini@lilas.mssante.fr", Kind: mssante.Personal,
			Title: "Dr", GivenName: "Marcel", FamilyName: "Camparini"},
		To:        []string{"secretariat@chu-exemple.mssante.fr"},
		Text:      "Bonjour, voici le compte rendu.",
		Documents: []mssante.Document{{Header: header, PDF: mssante.BytesOpener(testdocs.PDF("CR", 2000))}},
		XDM: xdm.Options{SourceID: "1.2.250.1.999.1.2", // the sending system's OID
			ContentType: xdm.Code{Code: "04"}, Organization: "Centre de santé des Lilas"}, // JDV_J03
		Product:     "DEV935997", // X-MSS-NIL
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
