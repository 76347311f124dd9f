package mssante_test

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

// Receive a consultation report in a hospital's mailbox: parse the message
// as the IMAP server returns it (with the Return-Path its MTA added), read
// the MSSanté headers of Ref#2 ECO.2.4 (X-MSS-CODECDA, X-MSS-INS,
// X-MSS-NIL), identify the patient by the INS of the XDM metadata
// (ECO.2.1.2; here the ANS test patient, whose authority is the fictitious
// INS-NIR de test, which a production system must refuse), check every
// document of IHE_XDM.ZIP against its size and SHA-1, and list the rules
// of the référentiel the message breaks before integrating it.
func ExampleParse() {
	// A report about the ANS test patient PAT-TROIS DOMINIQUE, INS
	// 279035121518989 (ins.AuthorityNIRTest), as the IMAP server returns
	// it; ExampleMessage_WriteTo shows how such a message is built.
	raw := reportEML()

	r, err := mssante.Parse(bytes.NewReader(raw), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("from:", r.From.Name, "<"+r.From.Address+">")
	fmt.Println("document message:", r.IsDocumentMessage())
	fmt.Println("X-MSS-CODECDA:", r.MSS.CodeCDA)
	fmt.Println("X-MSS-INS:", r.MSS.INS)
	fmt.Println("X-MSS-NIL:", r.MSS.NIL)
	if r.XDM == nil || r.PatientID == nil {
		fmt.Println("IHE_XDM.ZIP unreadable or without a patient:", r.XDMErr)
		return
	}
	fmt.Println("patient:", r.PatientID.ID, ins.Authority(r.PatientID.Authority).TypeCode())
	fmt.Println("fictitious patient:", r.PatientID.Fictitious())
	for _, d := range r.XDM.Documents {
		fmt.Println("document:", d.Name, d.Entry.MimeType, d.Entry.Type.Code)
	}
	fmt.Println("archive verified:", r.XDM.Verify() == nil)
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
	// archive verified: true
	// broken rules: 0
}

// reportEML is a consultation report from Dr Camparini's personal BAL,
// with a fixed Message-ID and date, as the receiving mailbox holds it
// (with the Return-Path its MTA recorded).
func reportEML() []byte {
	created := time.Date(2026, 11, 24, 10, 30, 0, 0, testdocs.Paris)
	sent := &mssante.Message{
		From: mssante.Sender{Address: "marcel.camparini@lilas.mssante.fr", Kind: mssante.Personal,
			Title: "Dr", GivenName: "Marcel", FamilyName: "Camparini"},
		To:        []string{"secretariat@chu-exemple.mssante.fr"},
		MessageID: "<20261124103000.1@lilas.mssante.fr>",
		Date:      created,
		Text:      "Bonjour, voici le compte rendu.",
		Documents: []mssante.Document{{
			Header: testdocs.Header(testdocs.Patient("test", true), "11488-4", created),
			PDF:    mssante.BytesOpener(testdocs.PDF("CR", 2000)),
		}},
		XDM:         xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
		Product:     "DEV935997",
		ReadReceipt: true,
	}
	var eml bytes.Buffer
	eml.WriteString("Return-Path: <marcel.camparini@lilas.mssante.fr>\r\n")
	if _, err := sent.WriteTo(&eml); err != nil {
		panic(err)
	}
	return eml.Bytes()
}

// receivedReport is reportEML as the receiving side parsed it.
func receivedReport() *mssante.Received {
	r, err := mssante.Parse(bytes.NewReader(reportEML()), nil)
	if err != nil {
		panic(err)
	}
	return r
}

// Acknowledge a received report with a read receipt (accusé de lecture),
// as the applicative BAL of a DPI does once it has integrated the
// document (ANS volet "Transmission au LPS d'un document CDA provenant
// d'un courriel MSSanté", RFC 8098): "processed" with the original subject
// on success, "processed/Error: <code>^<libellé>" with a
// "[KO Intégration système !][<code>]" subject when integration failed
// (codes 900–906). NewMDN sends one only when the sender asked for it
// (Disposition-Notification-To) and its address is the Return-Path; the
// MDN goes out with a null envelope sender. The sender's software then
// reads the MDN back with ParseMDN to learn the outcome.
func ExampleNewMDN() {
	orig := receivedReport() // see ExampleParse
	receiver := mssante.Sender{Address: "secretariat@chu-exemple.mssante.fr",
		Kind: mssante.Applicative, Entity: "DPI CHU Exemple"}

	// Success: the document was integrated.
	ok, err := mssante.NewMDN(orig, mssante.MDNOptions{From: receiver, Product: "DEV935997"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("to:", ok.To, "MAIL FROM:<"+ok.Envelope().From+">")
	fmt.Println("disposition:", ok.Disposition)
	fmt.Println("subject:", ok.Subject)

	// Failure: the patient is unknown to the DPI (code 902).
	ko, err := mssante.NewMDN(orig, mssante.MDNOptions{From: receiver, Product: "DEV935997",
		Error: &mssante.IntegrationPatientUnknown})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("disposition:", ko.Disposition)
	fmt.Println("subject:", ko.Subject)

	// The sender's side: parse the failure MDN as received and read it.
	var eml bytes.Buffer
	if _, err := ko.WriteTo(&eml); err != nil {
		fmt.Println(err)
		return
	}
	received, err := mssante.Parse(&eml, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	report, err := mssante.ParseMDN(received)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("original message:", report.OriginalMessageID)
	fmt.Println("final recipient:", report.FinalRecipient)
	fmt.Println("type:", report.Type, report.ActionMode+"/"+report.SendingMode)
	fmt.Println("success:", report.Success())
	fmt.Println("error:", report.Error.Code, report.Error.Label)
	fmt.Println("code in subject:", mssante.IntegrationCodeFromSubject(received.Subject))
	// Output:
	// to: marcel.camparini@lilas.mssante.fr MAIL FROM:<>
	// disposition: automatic-action/MDN-sent-automatically; processed
	// subject: XDM/1.0/DDM+Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979
	// disposition: automatic-action/MDN-sent-automatically; processed/Error: 902^Identifiant patient inconnu
	// subject: [KO Intégration système !][902] XDM/1.0/DDM+Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979
	// original message: <20261124103000.1@lilas.mssante.fr>
	// final recipient: secretariat@chu-exemple.mssante.fr
	// type: processed automatic-action/MDN-sent-automatically
	// success: false
	// error: 902 Identifiant patient inconnu
	// code in subject: 902
}

// Read the delivery status notifications (accusés de réception, RFC 3464)
// that an MTA returns for a message sent with DSN NOTIFY=SUCCESS,FAILURE.
// Here one message was sent to two recipients and Postfix answered with
// two DSNs, one per outcome (real Postfix 3.7 output, see ../testdata/dsn):
// key the outcome on Action, through Delivered and Failed (a success over
// LMTP says "relayed"), and match each DSN to the message sent by its
// envelope id (ENVID) or the returned Message-ID.
func ExampleParseDSN() {
	for _, file := range []string{"mixed-two-recipients-success.eml", "mixed-two-recipients-failure.eml"} {
		raw, err := os.ReadFile("../testdata/dsn/" + file)
		if err != nil {
			fmt.Println(err)
			return
		}
		m, err := mssante.Parse(bytes.NewReader(raw), nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		dsn, err := mssante.ParseDSN(m)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(m.Subject)
		fmt.Println("  envelope id:", dsn.OriginalEnvelopeID, "message:", dsn.OriginalMessageID)
		for _, rc := range dsn.Recipients {
			fmt.Printf("  %s: %s %s (delivered %t, failed %t)\n",
				rc.FinalRecipient, rc.Action, rc.Status, rc.Delivered(), rc.Failed())
		}
	}
	// Output:
	// Successful Mail Delivery Report
	//   envelope id: MSS-20261124-0003 message: <20261124.3@hopital.test.mssante.fr>
	//   medecin.traitant@cabinet.test.mssante.fr: relayed 2.0.0 (delivered true, failed false)
	// Undelivered Mail Returned to Sender
	//   envelope id: MSS-20261124-0003 message: <20261124.3@hopital.test.mssante.fr>
	//   dr.inconnu@cabinet.test.mssante.fr: failed 5.1.1 (delivered false, failed true)
}
