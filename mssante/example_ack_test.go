// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"bytes"
	"fmt"
	"log"
	"strings"

	"github.com/ecdaf744/gomss/mssante"
)

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
	orig, err := mssante.Parse(strings.NewReader(reportWithReadReceipt), nil)
	if err != nil {
		log.Fatal(err)
	}
	receiver := mssante.Sender{Address: "secretariat@chu-exemple.mssante.fr",
		Kind: mssante.Applicative, Entity: "DPI CHU Exemple"}

	// Success: the document was integrated.
	ok, err := mssante.NewMDN(orig, mssante.MDNOptions{From: receiver, Product: "DEV935997"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("to:", ok.To, "MAIL FROM:<"+ok.Envelope().From+">")
	fmt.Println("disposition:", ok.Disposition)
	fmt.Println("subject:", ok.Subject)

	// Failure: the patient is unknown to the DPI (code 902).
	ko, err := mssante.NewMDN(orig, mssante.MDNOptions{From: receiver, Product: "DEV935997",
		Error: &mssante.IntegrationPatientUnknown})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("disposition:", ko.Disposition)
	fmt.Println("subject:", ko.Subject)

	// The sender's side: parse the failure MDN as received and read it.
	var eml bytes.Buffer
	if _, err := ko.WriteTo(&eml); err != nil {
		log.Fatal(err)
	}
	received, err := mssante.Parse(&eml, nil)
	if err != nil {
		log.Fatal(err)
	}
	report, err := mssante.ParseMDN(received)
	if err != nil {
		log.Fatal(err)
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

// reportWithReadReceipt is the header of a report received by the
// hospital's applicative BAL, whose sender asked for a read receipt
// (Disposition-Notification-To, here the Return-Path its MTA recorded).
// Its body and IHE_XDM.ZIP are left out: an MDN carries neither
// (ExampleParse reads a whole report).
const reportWithReadReceipt = "Return-Path: <marcel.camparini@lilas.mssante.fr>\r\n" +
	"From: Dr_Marcel_CAMPARINI <marcel.camparini@lilas.mssante.fr>\r\n" +
	"To: secretariat@chu-exemple.mssante.fr\r\n" +
	"Subject: XDM/1.0/DDM+Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979\r\n" +
	"Date: Tue, 24 Nov 2026 10:30:00 +0100\r\n" +
	"Message-ID: <20261124103000.1@lilas.mssante.fr>\r\n" +
	"Disposition-Notification-To: marcel.camparini@lilas.mssante.fr\r\n" +
	"X-MSS-NIL: DEV935997\r\n" +
	"X-MSS-CODECDA: 11488-4\r\n" +
	"X-MSS-INS: O\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Bonjour, voici le compte rendu.\r\n"

// Read the delivery status notifications (accusés de réception, RFC 3464)
// that an MTA returns for a message sent with DSN NOTIFY=SUCCESS,FAILURE.
// Here one message was sent to two recipients and Postfix answered with
// two DSNs, one per outcome: key the outcome on Action, through Delivered
// and Failed (a success over LMTP says "relayed"), and match each DSN to
// the message sent by its envelope id (ENVID) or the returned Message-ID.
func ExampleParseDSN() {
	for _, raw := range []string{successDSN, failureDSN} {
		m, err := mssante.Parse(strings.NewReader(raw), nil)
		if err != nil {
			log.Fatal(err)
		}
		dsn, err := mssante.ParseDSN(m)
		if err != nil {
			log.Fatal(err)
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

// successDSN and failureDSN are the two DSNs of Postfix 3.7 for a message
// to medecin.traitant@cabinet.test.mssante.fr (delivered over LMTP) and
// dr.inconnu@cabinet.test.mssante.fr (unknown), as the sender's mailbox
// holds them, with their Received fields and part of their human-readable
// text left out. (Over IMAP the lines end in CRLF; Parse reads both.)
const (
	successDSN = `Return-Path: <>
Date: Tue, 24 Nov 2026 06:01:54 +0000 (UTC)
From: Mail Delivery System <MAILER-DAEMON@mta.hopital.test.mssante.fr>
Subject: Successful Mail Delivery Report
To: dr.martin@hopital.test.mssante.fr
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="01B5F984091.1795500114/mta.hopital.test.mssante.fr"
Content-Transfer-Encoding: 8bit
Message-Id: <20261124060154.05C6C9840C2@mta.hopital.test.mssante.fr>

This is a MIME-encapsulated message.

--01B5F984091.1795500114/mta.hopital.test.mssante.fr
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Your message was successfully delivered to the destination(s)
listed below.

<medecin.traitant@cabinet.test.mssante.fr>: delivery via
    127.0.0.1[127.0.0.1]:10024: 250 2.0.0
    <medecin.traitant@cabinet.test.mssante.fr> 8HGiAFIoBWsXFQAAg+zDdQ:R2 Saved

--01B5F984091.1795500114/mta.hopital.test.mssante.fr
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mta.hopital.test.mssante.fr
Original-Envelope-Id: MSS-20261124-0003
X-Postfix-Queue-ID: 01B5F984091
X-Postfix-Sender: rfc822; dr.martin@hopital.test.mssante.fr
Arrival-Date: Tue, 24 Nov 2026 06:01:54 +0000 (UTC)

Final-Recipient: rfc822; medecin.traitant@cabinet.test.mssante.fr
Original-Recipient: rfc822;medecin.traitant@cabinet.test.mssante.fr
Action: relayed
Status: 2.0.0
Remote-MTA: dns; 127.0.0.1
Diagnostic-Code: smtp; 250 2.0.0 <medecin.traitant@cabinet.test.mssante.fr>
    8HGiAFIoBWsXFQAAg+zDdQ:R2 Saved

--01B5F984091.1795500114/mta.hopital.test.mssante.fr
Content-Description: Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

Return-Path: <dr.martin@hopital.test.mssante.fr>
From: "MARTIN Jean (Dr)" <dr.martin@hopital.test.mssante.fr>
To: medecin.traitant@cabinet.test.mssante.fr, dr.inconnu@cabinet.test.mssante.fr
Subject: XDM/1.0/DDM+CR de consultation PAT-TROIS DOMINIQUE 28/03/1979
Date: Tue, 24 Nov 2026 06:01:54 -0000
Message-ID: <20261124.3@hopital.test.mssante.fr>
X-MSS-NIL: DEV000001
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

--01B5F984091.1795500114/mta.hopital.test.mssante.fr--
`
	failureDSN = `Return-Path: <>
Date: Tue, 24 Nov 2026 06:01:54 +0000 (UTC)
From: Mail Delivery System <MAILER-DAEMON@mta.hopital.test.mssante.fr>
Subject: Undelivered Mail Returned to Sender
To: dr.martin@hopital.test.mssante.fr
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="01B5F984091.1795500114/mta.hopital.test.mssante.fr"
Content-Transfer-Encoding: 8bit
Message-Id: <20261124060154.048D69840C9@mta.hopital.test.mssante.fr>

This is a MIME-encapsulated message.

--01B5F984091.1795500114/mta.hopital.test.mssante.fr
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<dr.inconnu@cabinet.test.mssante.fr>: host 127.0.0.1[127.0.0.1] said: 550 5.1.1
    <dr.inconnu@cabinet.test.mssante.fr> User doesn't exist:
    dr.inconnu@cabinet.test.mssante.fr (in reply to RCPT TO command)

--01B5F984091.1795500114/mta.hopital.test.mssante.fr
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mta.hopital.test.mssante.fr
Original-Envelope-Id: MSS-20261124-0003
X-Postfix-Queue-ID: 01B5F984091
X-Postfix-Sender: rfc822; dr.martin@hopital.test.mssante.fr
Arrival-Date: Tue, 24 Nov 2026 06:01:54 +0000 (UTC)

Final-Recipient: rfc822; dr.inconnu@cabinet.test.mssante.fr
Original-Recipient: rfc822;dr.inconnu@cabinet.test.mssante.fr
Action: failed
Status: 5.1.1
Remote-MTA: dns; 127.0.0.1
Diagnostic-Code: smtp; 550 5.1.1 <dr.inconnu@cabinet.test.mssante.fr> User
    doesn't exist: dr.inconnu@cabinet.test.mssante.fr

--01B5F984091.1795500114/mta.hopital.test.mssante.fr
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

Return-Path: <dr.martin@hopital.test.mssante.fr>
From: "MARTIN Jean (Dr)" <dr.martin@hopital.test.mssante.fr>
To: medecin.traitant@cabinet.test.mssante.fr, dr.inconnu@cabinet.test.mssante.fr
Subject: XDM/1.0/DDM+CR de consultation PAT-TROIS DOMINIQUE 28/03/1979
Date: Tue, 24 Nov 2026 06:01:54 -0000
Message-ID: <20261124.3@hopital.test.mssante.fr>
X-MSS-NIL: DEV000001
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

--01B5F984091.1795500114/mta.hopital.test.mssante.fr--
`
)
