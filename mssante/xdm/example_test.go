package xdm_test

import (
	"bytes"
	"fmt"

	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

// Wrap a PDF report in an IHE_XDM.ZIP, then open the archive as a receiver
// would and verify the document against its metadata.
func ExampleNewWriter() {
	// A valid CDA header about a qualified patient (see cda.ExampleWrite for
	// its fields; here a test helper builds one about the ANS test patient).
	header := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	pdf := testdocs.PDF("Compte rendu", 4096)

	var zip bytes.Buffer
	w, err := xdm.NewWriter(&zip, xdm.Options{
		SourceID:     "1.2.250.1.999.1.2",  // OID of the sending software instance
		ContentType:  xdm.Code{Code: "04"}, // JDV_J03
		Organization: "Centre de santé des Lilas",
		Application:  xdm.Application{Name: "MonDPI", Version: "3.2", Vendor: "Éditeur"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	entry, err := w.AddCDA(header, cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(pdf)}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(entry.URI, entry.PatientID)
	fmt.Println(entry.Class.Code, entry.Format.Code)

	a, err := xdm.OpenReader(bytes.NewReader(zip.Bytes()), int64(zip.Len()), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Subset, len(a.Documents), a.Verify())
	// Output:
	// DOC0001.XML 279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH
	// 10 urn:ihe:iti:xds-sd:pdf:2008
	// IHE_XDM/SUBSET01 1 <nil>
}
