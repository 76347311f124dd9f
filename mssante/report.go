package mssante

import (
	"fmt"
	"strings"
)

// ReportType is the report-type parameter of a multipart/report (RFC 6522
// §3): the media subtype of its machine-readable second part.
type ReportType string

// The report types of acknowledgements. The global forms are those of
// internationalised reports (RFC 6533), whose machine part may carry
// UTF-8: their report-type is the subtype of that part, as RFC 6522 §3
// has it (report-type=global-delivery-status with a
// message/global-delivery-status part).
const (
	// ReportDeliveryStatus: a DSN (RFC 3464), the "accusé de réception
	// MSSanté", written by a mail server.
	ReportDeliveryStatus ReportType = "delivery-status"
	// ReportDispositionNotification: an MDN (RFC 8098), the "accusé de
	// lecture MSSanté", written by the recipient's software.
	ReportDispositionNotification ReportType = "disposition-notification"
	// ReportGlobalDeliveryStatus: a DSN with a
	// message/global-delivery-status part (RFC 6533).
	ReportGlobalDeliveryStatus ReportType = "global-delivery-status"
	// ReportGlobalDispositionNotification: an MDN with a
	// message/global-disposition-notification part (RFC 6533).
	ReportGlobalDispositionNotification ReportType = "global-disposition-notification"
)

// MachineType is the media type of the report's machine-readable part:
// "message/" followed by the report type (RFC 6522 §3).
func (t ReportType) MachineType() string { return "message/" + string(t) }

// MessageKind tells a message written by a client from a report, and a
// report written by a mail server from one written by the recipient's
// software.
type MessageKind int

// The kinds of received messages.
const (
	// KindMessage: any message that is not a multipart/report (with or
	// without documents), written by a client: the Ref#2 rules apply.
	KindMessage MessageKind = iota
	// KindDSN: a delivery status notification (RFC 3464). DSNs are
	// issued by mail transfer agents (RFC 3461, RFC 3464 §1), here the
	// operators' servers: the Ref#2 rules for clients (X-MSS-NIL, sender
	// label…) do not apply to them.
	KindDSN
	// KindMDN: a message disposition notification (RFC 8098), written by
	// the recipient's user agent or gateway (RFC 8098 abstract), here
	// its client or integration platform: the Ref#2 rules apply to it, with those of the ANS volet
	// "Transmission au LPS d'un document CDA provenant d'un courriel
	// MSSanté" (struct-msg-mdn) for acknowledgements.
	KindMDN
	// KindReport: another multipart/report (a report type this package
	// does not know): only RFC 6522 is checked.
	KindReport
)

func (k MessageKind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindDSN:
		return "DSN"
	case KindMDN:
		return "MDN"
	case KindReport:
		return "report"
	}
	return fmt.Sprintf("MessageKind(%d)", int(k))
}

// IsReport reports whether the kind is a multipart/report.
func (k MessageKind) IsReport() bool { return k != KindMessage }

// ServerGenerated reports whether messages of this kind are written by a
// mail server rather than a client: true for DSNs only. A receiving
// application uses it to tell an operator's report from a non-compliant
// message (Check does not hold a DSN to the rules of client messages).
func (k MessageKind) ServerGenerated() bool { return k == KindDSN }

// Kind returns what the message is. A multipart/report without a
// report-type parameter is classified by its second part's type.
func (m *Received) Kind() MessageKind {
	if m.ContentType != "multipart/report" {
		return KindMessage
	}
	rt := m.ReportType
	if rt == "" && len(m.reportParts) > 1 {
		rt = ReportType(strings.TrimPrefix(m.reportParts[1].mediaType, "message/"))
	}
	switch rt {
	case ReportDeliveryStatus, ReportGlobalDeliveryStatus:
		return KindDSN
	case ReportDispositionNotification, ReportGlobalDispositionNotification:
		return KindMDN
	}
	return KindReport
}
