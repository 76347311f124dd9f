// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/ecdaf744/gomss/trace"
)

// Sentinel errors of the submission path. Every error Sender.Send,
// Sender.SendAck and the Batch methods return wraps one of them, or
// ErrAuth, ErrNoRecipient, or trace.ErrNotRecorded when the trace could
// not be written (errors.Is): either a *SMTPError (ErrRefused: the server
// answered no) or a *SendError (everything else, and a refusal of the
// login), which also says whether the message may have been accepted
// (SendError.DataSent) and whether trying again later may succeed
// (Temporary). Some wrap two: a refused client certificate is also
// ErrRefused when the server said so in a reply, an unknown revocation
// status is ErrServerCertificate and ErrRevocationUnknown.
var (
	// ErrConfig: the Sender cannot be used as configured (no Trust or
	// Auth, no roots, a cipher suite refused). Not temporary.
	ErrConfig = errors.New("bal: invalid configuration")
	// ErrConnect: no TCP connection to the server could be opened (name
	// not resolved, connection refused, unreachable). Temporary.
	ErrConnect = errors.New("bal: cannot connect")
	// ErrServerCertificate: the server's certificate was refused by the
	// Trust: not issued under its roots, not for the server's name,
	// expired, revoked (the error also wraps ErrRevoked) or of unknown
	// revocation status (also wraps ErrRevocationUnknown). Temporary only
	// in the last case (the CRL may be had later).
	ErrServerCertificate = errors.New("bal: server certificate refused")
	// ErrClientCertificate: the server refused the client certificate, or
	// wanted one and got none: a TLS alert about it (bad_certificate,
	// certificate_expired, unknown_ca, certificate_required… RFC 8446
	// §6.2), or a refusal of the first command after the TLS handshake
	// with an enhanced status of class X.7 (security or policy, RFC 3463
	// §3.8), as Postfix's "421 4.7.1 Error: No client certificate
	// presented" or "Client certificate not trusted". Never temporary,
	// whatever the reply code: the same certificate is refused again.
	ErrClientCertificate = errors.New("bal: client certificate refused by the server")
	// ErrTLS: the TLS negotiation failed for another reason (no common
	// version or cipher suite, a server that does not offer STARTTLS, a
	// peer that does not speak TLS). Not temporary.
	ErrTLS = errors.New("bal: TLS negotiation failed")
	// ErrConnectionLost: the connection was closed or reset by the server
	// or the network in the middle of the session. Temporary.
	ErrConnectionLost = errors.New("bal: connection lost")
	// ErrInterrupted: the caller's context ended and the connection was
	// closed; the error also wraps the context's error. Temporary.
	ErrInterrupted = errors.New("bal: interrupted")
	// ErrRefused is wrapped by every *SMTPError: the server answered with
	// a refusal. Temporary for a 4xx reply (see SMTPError.Temporary).
	ErrRefused = errors.New("bal: refused by the server")
	// ErrBatchClosed: a Batch used after Close, or after a failure that
	// left its connection in an unknown state (and closed it): open
	// another. Temporary.
	ErrBatchClosed = errors.New("bal: batch closed: open another")
	// ErrMessage: the message could not be written out for sending (it is
	// invalid, or too big: the error also wraps *mssante.SizeError).
	// Nothing was sent. Not temporary.
	ErrMessage = errors.New("bal: message cannot be written")
	// ErrSpool: the spool file holding the message could not be written
	// or read back (disk full, I/O error). Temporary.
	ErrSpool = errors.New("bal: spool file")
)

// ErrTimeout: the server did not answer within the Timeout (Sender and
// Receiver) or a command deadline passed. errors.Is(err,
// os.ErrDeadlineExceeded) is true as well, as for net.Conn deadlines.
// Temporary.
var ErrTimeout error = timeoutKind{}

type timeoutKind struct{}

func (timeoutKind) Error() string        { return "bal: timeout" }
func (timeoutKind) Is(target error) bool { return target == os.ErrDeadlineExceeded }

// Timeout reports true, as net.Error does for a deadline.
func (timeoutKind) Timeout() bool { return true }

// timeoutError is the error of a connection closed by connWatch because
// timeout passed: "no answer within 1m0s (<the error it caused>)". It
// wraps ErrTimeout.
type timeoutError struct {
	after time.Duration
	cause error
}

func (e *timeoutError) Error() string {
	if e.cause == nil {
		return fmt.Sprintf("no answer within %v", e.after)
	}
	return fmt.Sprintf("no answer within %v (%v)", e.after, e.cause)
}

func (e *timeoutError) Unwrap() error { return ErrTimeout }

// SendError is a failure of a submission that is not a refusal by the
// server (those are *SMTPError): the connection could not be opened,
// secured or authenticated, or was lost, timed out or closed because the
// context ended; the message could not be spooled; the trace could not be
// written. It wraps its Kind (one of the sentinels above, or
// trace.ErrNotRecorded) and its cause.
type SendError struct {
	// Op is the step that failed: "spool", "connect", "STARTTLS", "TLS"
	// (the handshake), "EHLO" (the first command after the handshake, or
	// with implicit TLS the greeting before it), "AUTH", "RSET", "MAIL",
	// "RCPT", "DATA" (sending the message), "end of DATA" (waiting for
	// the reply to the final "."), "trace".
	Op string
	// Server is the server's host:port (empty for "spool").
	Server string
	// Kind is the sentinel saying what went wrong (ErrConnectionLost…).
	Kind error
	// Err is the cause (nil when Kind says it all).
	Err error
	// DataSent reports that the whole message, up to its final ".", had
	// been written to the server when the failure happened: the server
	// may have accepted it (acceptance unknown), and sending it again may
	// deliver it twice. When false the server did not take the message
	// and it can be sent again. A SendError with DataSent from a send that
	// also returned a result with a Reply is the one case where the
	// message is known to be accepted: only its trace failed (Op
	// "trace").
	DataSent bool
}

func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString("bal: ")
	if e.Server != "" {
		fmt.Fprintf(&b, "SMTP %s with %s: ", e.Op, e.Server)
	} else {
		fmt.Fprintf(&b, "%s: ", e.Op)
	}
	kind := ""
	if e.Kind != nil {
		kind = strings.TrimPrefix(e.Kind.Error(), "bal: ")
	}
	cause := ""
	if e.Err != nil {
		cause = strings.TrimPrefix(e.Err.Error(), "bal: ")
	}
	switch {
	case cause == "":
		b.WriteString(kind)
	case kind == "" || strings.HasPrefix(cause, kind):
		b.WriteString(cause)
	default:
		b.WriteString(kind + ": " + cause)
	}
	if e.DataSent {
		b.WriteString(" (the whole message had been sent: the server may have accepted it)")
	}
	return b.String()
}

// Unwrap returns the Kind and the cause.
func (e *SendError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Temporary reports whether trying the same send again later, without
// changing anything, may succeed: true for ErrConnect,
// ErrConnectionLost, ErrTimeout, ErrInterrupted, ErrBatchClosed,
// ErrSpool, trace.ErrNotRecorded, and ErrServerCertificate when the
// revocation status was unknown; for ErrAuth and ErrRefused, what the
// server's reply says (4xx); false otherwise (ErrClientCertificate,
// ErrTLS, ErrConfig, ErrMessage, ErrNoRecipient, a revoked or untrusted
// server certificate). When DataSent is true, check it first: the message
// may already be accepted.
func (e *SendError) Temporary() bool {
	switch e.Kind {
	case ErrConnect, ErrConnectionLost, ErrTimeout, ErrInterrupted, ErrBatchClosed, ErrSpool, trace.ErrNotRecorded:
		return true
	case ErrServerCertificate:
		return errors.Is(e.Err, ErrRevocationUnknown) && !errors.Is(e.Err, ErrRevoked)
	case ErrAuth, ErrRefused:
		var se *SMTPError
		return errors.As(e.Err, &se) && se.Temporary()
	}
	return false
}

// transportKind names a failure of the connection itself (not a reply
// of the server): the caller's context ended, a deadline passed, the
// server's certificate was refused, the server refused ours by a TLS
// alert, another TLS alert or, while handshaking, any failure that is not
// the network's (crypto/tls's own checks, no STARTTLS offered), or the
// connection was lost.
func transportKind(ctx context.Context, err error, handshaking bool) error {
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return ErrInterrupted
	case errors.Is(err, ErrTimeout) || errors.Is(err, os.ErrDeadlineExceeded):
		return ErrTimeout
	case isServerCertificateError(err):
		return ErrServerCertificate
	case isClientCertificateAlert(err):
		return ErrClientCertificate
	case isAlert(err) || handshaking && !isNetworkError(err):
		return ErrTLS
	}
	return ErrConnectionLost
}

// isAlert reports a TLS alert, received or sent: crypto/tls returns both
// as *net.OpError with Op "remote error" or "local error".
func isAlert(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && (oe.Op == "remote error" || oe.Op == "local error")
}

// isServerCertificateError reports a refusal of the server's certificate
// by crypto/tls's verification or by the Trust's revocation check
// (VerifyConnection, whose errors crypto/tls returns as they are).
func isServerCertificateError(err error) bool {
	var cve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) ||
		errors.Is(err, ErrRevoked) || errors.Is(err, ErrRevocationUnknown)
}

// clientCertificateAlerts are the TLS alerts a server sends about the
// certificate the client presented, or did not present (RFC 8446 §6.2,
// RFC 5246 §7.2.2): bad_certificate, unsupported_certificate,
// certificate_revoked, certificate_expired, certificate_unknown,
// unknown_ca, access_denied, certificate_required.
var clientCertificateAlerts = []tls.AlertError{42, 43, 44, 45, 46, 48, 49, 116}

// isClientCertificateAlert reports an alert received from the server about
// the client's certificate. crypto/tls returns a received alert as a
// *net.OpError with Op "remote error" whose Err is its unexported alert
// type; it has the same text as tls.AlertError of the same code.
func isClientCertificateAlert(err error) bool {
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "remote error" || oe.Err == nil {
		return false
	}
	for _, a := range clientCertificateAlerts {
		if oe.Err.Error() == a.Error() {
			return true
		}
	}
	return false
}

// isNetworkError reports a failure of the transport under TLS: a read or
// write error of the socket, an end of stream, a closed connection (not an
// alert, which crypto/tls also returns as *net.OpError).
func isNetworkError(err error) bool {
	if errors.As(err, new(*net.OpError)) {
		return !isAlert(err)
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// isEnvelopeError reports an error of go-smtp's Mail or Rcpt that is
// neither a reply nor a failure of the connection: a check of the
// envelope done before the command is written ("smtp: a line must not
// contain CR or LF", "smtp: Illegal address"…).
func isEnvelopeError(err error) bool {
	var ge *smtp.SMTPError
	var rh tls.RecordHeaderError
	return !errors.As(err, &ge) && !errors.As(err, new(*net.OpError)) && !errors.As(err, &rh) &&
		!isNetworkError(err) && !errors.Is(err, os.ErrDeadlineExceeded)
}

// certificateRefusal reports whether a refusal of the first command after
// the TLS handshake is about the client's credentials: an enhanced status
// of class X.7 (RFC 3463 §3.8, "security or policy status"), or a reply
// that says "certificate". Postfix, with smtpd_tls_req_ccert, answers
// "421 4.7.1 <host> Error: No client certificate presented" (or "Client
// certificate not trusted") and closes the connection.
func certificateRefusal(r *SMTPError) bool {
	if parts := strings.Split(r.Enhanced, "."); len(parts) == 3 && parts[1] == "7" {
		return true
	}
	return strings.Contains(strings.ToLower(r.Message), "certificate")
}
