// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// DSNReport is a parsed delivery status notification (RFC 3464), the
// "accusé de réception MSSanté" (VT-CDA: RFC 3461–3464, 6522).
type DSNReport struct {
	ReportingMTA       string
	OriginalEnvelopeID string
	ArrivalDate        string
	// OriginalMessageID comes from the returned headers or message, in
	// the <left@right> form of Message.MessageID (NormalizeMessageID).
	OriginalMessageID string
	Recipients        []DSNRecipient
}

// DSNRecipient is the outcome for one recipient.
type DSNRecipient struct {
	FinalRecipient    string
	OriginalRecipient string
	// Action is failed, delayed, delivered, relayed or expanded.
	Action         string
	Status         string // e.g. 2.0.0, 5.1.1
	DiagnosticCode string
	RemoteMTA      string
}

// Delivered reports a successful outcome: delivered, relayed (a success
// DSN from Postfix delivering over LMTP says relayed) or expanded
// (RFC 3464 §2.3.3).
func (r DSNRecipient) Delivered() bool {
	switch r.Action {
	case "delivered", "relayed", "expanded":
		return true
	}
	return false
}

// Failed reports a permanent failure.
func (r DSNRecipient) Failed() bool { return r.Action == "failed" }

// ParseDSN reads the message/delivery-status part of a received DSN and,
// when the report returns them, the original headers for the
// Message-ID.
func ParseDSN(m *Received) (*DSNReport, error) {
	part := m.report("message/delivery-status", "message/global-delivery-status")
	if part == nil {
		return nil, ErrNotReport
	}
	blocks, err := fieldBlocks(part.Data)
	if err != nil || len(blocks) < 2 {
		return nil, fmt.Errorf("%w: delivery-status needs per-message and per-recipient fields (%v)", ErrParse, err)
	}
	pm := blocks[0]
	r := &DSNReport{
		ReportingMTA:       stripAddrType(pm.Get("Reporting-Mta")),
		OriginalEnvelopeID: strings.TrimSpace(pm.Get("Original-Envelope-Id")),
		ArrivalDate:        strings.TrimSpace(pm.Get("Arrival-Date")),
	}
	for _, b := range blocks[1:] {
		rc := DSNRecipient{
			FinalRecipient:    stripAddrType(b.Get("Final-Recipient")),
			OriginalRecipient: stripAddrType(b.Get("Original-Recipient")),
			Action:            strings.ToLower(strings.TrimSpace(b.Get("Action"))),
			Status:            strings.TrimSpace(b.Get("Status")),
			DiagnosticCode:    strings.TrimSpace(b.Get("Diagnostic-Code")),
			RemoteMTA:         stripAddrType(b.Get("Remote-Mta")),
		}
		if rc.FinalRecipient == "" || rc.Action == "" {
			return r, fmt.Errorf("%w: a recipient block needs Final-Recipient and Action", ErrParse)
		}
		r.Recipients = append(r.Recipients, rc)
	}
	if orig := m.report("text/rfc822-headers", "message/rfc822", "message/global-headers", "message/global"); orig != nil {
		if h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(orig.Data))); err == nil || h.Len() > 0 {
			r.OriginalMessageID = NormalizeMessageID(h.Get("Message-Id"))
		}
	}
	return r, nil
}
