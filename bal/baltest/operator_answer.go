// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"bytes"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// DSNAnswer is a delivery status the operator reports about a message, as
// if its server had tried to deliver it (see [Operator.AnswerDSN]).
type DSNAnswer struct {
	// Recipient is the Final-Recipient reported on.
	Recipient string
	// Action is "failed", "delayed", "delivered", "relayed" or
	// "expanded" (RFC 3464 §2.3.3).
	Action string
	// Status is the RFC 3463 status ("5.1.1"); empty means 2.0.0 for a
	// success, 4.4.1 for "delayed", 5.0.0 for "failed".
	Status string
	// Diagnostic, when not empty, is the Diagnostic-Code ("smtp; 550
	// 5.2.1 mailbox closed").
	Diagnostic string
	// EnvelopeID, when not empty, is the Original-Envelope-Id (the ENVID
	// the sender gave at MAIL FROM).
	EnvelopeID string
}

// CannedDSNs are ready-made answers by name; Recipient is left to the
// caller. "closed", "unknown", "invalid" and "too-large" are the Mon
// espace santé bounces a sender must tell apart (closed mailbox, patient
// unknown, invalid address, message too large), with the RFC 3463
// statuses bal/outbox classifies them by; the others are common
// outcomes of any delivery.
var CannedDSNs = map[string]DSNAnswer{
	"closed":        {Action: "failed", Status: "5.2.1", Diagnostic: "smtp; 550 5.2.1 Messagerie Mon espace sante fermee (mailbox closed)"},
	"unknown":       {Action: "failed", Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 Patient inconnu (unknown user)"},
	"invalid":       {Action: "failed", Status: "5.1.3", Diagnostic: "smtp; 553 5.1.3 Adresse invalide (invalid address)"},
	"too-large":     {Action: "failed", Status: "5.3.4", Diagnostic: "smtp; 552 5.3.4 Message trop volumineux (message too large)"},
	"temporary":     {Action: "delayed", Status: "4.4.1", Diagnostic: "smtp; 451 4.4.1 Serveur injoignable"},
	"delivered":     {Action: "delivered", Status: "2.0.0"},
	"relayed":       {Action: "relayed", Status: "2.0.0"},
	"unknown-user":  {Action: "failed", Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 User unknown"},
	"mailbox-full":  {Action: "failed", Status: "5.2.2", Diagnostic: "smtp; 552 5.2.2 Mailbox full"},
	"policy-refuse": {Action: "failed", Status: "5.7.1", Diagnostic: "smtp; 550 5.7.1 Sender not authorized"},
}

// AnswerDSN makes the operator report on original (a message as it was
// stored or sent) with a DSN (RFC 3464, multipart/report with the
// original's header) put in the INBOX of the original's sender (its
// Return-Path, else its From), which must be one of the operator's
// mailboxes. It returns the DSN as delivered.
func (op *Operator) AnswerDSN(original []byte, a DSNAnswer) ([]byte, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(original))
	if err != nil {
		return nil, fmt.Errorf("baltest: AnswerDSN: the original message: %w", err)
	}
	senderAddr := strings.Trim(strings.TrimSpace(msg.Header.Get("Return-Path")), "<>")
	if senderAddr == "" {
		if from, err := mail.ParseAddress(msg.Header.Get("From")); err == nil {
			senderAddr = from.Address
		}
	}
	sender := op.mailbox(senderAddr)
	if sender == nil {
		return nil, fmt.Errorf("baltest: AnswerDSN: the sender %q is not a mailbox of the operator", senderAddr)
	}
	switch a.Action {
	case "failed", "delayed", "delivered", "relayed", "expanded":
	default:
		return nil, fmt.Errorf("baltest: AnswerDSN: action %q is not one of RFC 3464 §2.3.3", a.Action)
	}
	if a.Recipient == "" || strings.ContainsAny(a.Recipient, "\r\n") || strings.ContainsAny(a.Diagnostic+a.Status+a.EnvelopeID, "\r\n") {
		return nil, fmt.Errorf("baltest: AnswerDSN: a recipient is needed, and no field may hold a line break")
	}
	status := a.Status
	if status == "" {
		status = map[string]string{"failed": "5.0.0", "delayed": "4.4.1"}[a.Action]
		if status == "" {
			status = "2.0.0"
		}
	}
	kind := map[string]string{"failed": "failure", "delayed": "delay"}[a.Action]
	if kind == "" {
		kind = "success"
	}
	boundary := randomID()
	var b bytes.Buffer
	fmt.Fprintf(&b, "Return-Path: <>\r\nDelivered-To: %s\r\nDate: %s\r\n", sender.user.Address, time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\nTo: <%s>\r\n", op.Domain, senderAddr)
	fmt.Fprintf(&b, "Subject: Delivery Status Notification (%s)\r\nMessage-ID: <%s@%s>\r\n", kind, randomID(), op.Domain)
	fmt.Fprintf(&b, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n")
	fmt.Fprintf(&b, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", boundary)
	fmt.Fprintf(&b, "This is the test operator %s.\r\n\r\n<%s>: %s %s\r\n", op.Domain, fieldValue(a.Recipient), a.Action, status)
	fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary)
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\r\n", op.Domain)
	if a.EnvelopeID != "" {
		fmt.Fprintf(&b, "Original-Envelope-Id: %s\r\n", fieldValue(a.EnvelopeID))
	}
	fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; %s\r\nOriginal-Recipient: rfc822; %s\r\nAction: %s\r\nStatus: %s\r\n",
		fieldValue(a.Recipient), fieldValue(a.Recipient), a.Action, status)
	if a.Diagnostic != "" {
		fmt.Fprintf(&b, "Diagnostic-Code: %s\r\n", fieldValue(a.Diagnostic))
	}
	fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", boundary)
	b.Write(headerBlock(original))
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	if err := op.deliver(sender, b.Bytes()); err != nil {
		return nil, fmt.Errorf("baltest: AnswerDSN: %w", err)
	}
	op.logf("DSN (%s %s) for %s delivered to %s", a.Action, status, a.Recipient, sender.user.Address)
	return b.Bytes(), nil
}

// DeliverTo puts raw in the INBOX of address as [Operator.Deliver] does,
// returning an error instead of failing a test: for programs (the
// operator command's API) rather than tests.
func (op *Operator) DeliverTo(address string, raw []byte) error {
	box := op.mailbox(address)
	if box == nil {
		return fmt.Errorf("baltest: %q is not a mailbox of the operator", address)
	}
	return op.deliver(box, raw)
}
