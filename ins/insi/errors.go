// SPDX-License-Identifier: Apache-2.0

package insi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinels for the compte rendu (CodeCR) of an answer. An answer with CR 01
// or 02 is not a failure of the service: the call returns its *Result and an
// error wrapping one of these, so that callers branch with errors.Is.
var (
	// ErrNotFound is CR 01, "Aucune identite trouvee": no identity matched
	// the traits sent. It does NOT mean that the person has no INS: the
	// traits may be misspelt or incomplete, and another call with other
	// criteria may find it (ANS fiche mémo "Conduite à tenir en fonction du
	// retour du téléservice INSi", via esante-bretagne.fr).
	ErrNotFound = errors.New("insi: CR 01: no identity found with these traits (the person may still have an INS: try other criteria)")
	// ErrSeveralIdentities is CR 02, "Plusieurs identites trouvees": the
	// traits match more than one person. Search again with more traits:
	// the other birth given names, then the birth place COG.
	ErrSeveralIdentities = errors.New("insi: CR 02: several identities match these traits (add the other given names, then the birth place COG)")
	// ErrUnexpectedCR is wrapped when the answer carries a CodeCR other
	// than 00, 01 and 02.
	ErrUnexpectedCR = errors.New("insi: unexpected CodeCR")
	// ErrMalformedAnswer is wrapped when the HTTP body cannot be read as a
	// SOAP 1.2 envelope holding a RESULTAT or a Fault.
	ErrMalformedAnswer = errors.New("insi: malformed answer")
)

// Classes of failures a vendor acts on. A *Fault matches them with
// errors.Is; so do the client's own configuration errors.
var (
	// ErrRetryLater is the class of temporary unavailability of the
	// service (fault insi_102, observed with subcode siram_40): the same
	// request may succeed later. The client retries it itself within
	// Config.Retry; when the retries are spent the error still matches.
	ErrRetryLater = errors.New("insi: service temporarily unavailable, retry later")
	// ErrConfiguration is the class of errors no retry can fix: the
	// software's authorisation (IDAM), the certificate, the endpoint. A
	// person must change the configuration.
	ErrConfiguration = errors.New("insi: configuration error")
	// ErrUnknownIDAM is fault desir_550 "Numéro d'autorisation du logiciel
	// inconnu" (observed with subcode siram_100): the IDAM sent in
	// ContexteLPS is not known to the service. Matches ErrConfiguration.
	ErrUnknownIDAM = errors.New("insi: software authorisation number (IDAM) unknown to the service")
	// ErrAccessLevel is fault DESIR_560 "niveau d'accès insuffisant": the
	// client certificate's CN is not exactly INSI-AUTO or INSI-MANU.
	// Matches ErrConfiguration. The client checks the CN before any call
	// (ErrCertificateCN), so this fault means the server saw another
	// certificate than the one configured (a TLS-intercepting proxy, for
	// example).
	ErrAccessLevel = errors.New("insi: insufficient access level (certificate CN must be INSI-AUTO or INSI-MANU)")
	// ErrCertificateCN is returned by NewMTLS for a certificate whose CN is
	// not exactly INSI-AUTO or INSI-MANU. Matches ErrConfiguration.
	ErrCertificateCN = errors.New("insi: certificate CN must be exactly INSI-AUTO or INSI-MANU")
)

// Severity is the severite attribute of a siram:Erreur
// (schema_faultSOAP_V01_01.xsd: information, avertissement, erreur,
// fatale).
type Severity string

// The four severities of the siram fault schema.
const (
	SeverityInformation Severity = "information"
	SeverityWarning     Severity = "avertissement"
	SeverityError       Severity = "erreur"
	SeverityFatal       Severity = "fatale"
)

// Fault is a SOAP 1.2 Fault returned by the INSi service. Its fields come
// from the envelope (Code, Subcode, Reason) and from the siram:Erreur of
// Detail (code, severity, text, messageID). Example observed on the
// qualification platform (padoa/tlsi-ins fixture
// siram_100-desir_500-fake-idam): Code soap:Sender, Subcode siram_100,
// Reason "L'accès par ce progiciel au service n'est pas autorisé…",
// Erreur code desir_550, severite erreur, text "Numéro d'autorisation du
// logiciel inconnu.".
//
// errors.Is(f, ErrRetryLater) holds for insi_102; errors.Is(f,
// ErrConfiguration) for desir_550 (also ErrUnknownIDAM) and DESIR_560
// (also ErrAccessLevel). Codes are compared without regard to case: the
// service writes both desir_550 and DESIR_560.
type Fault struct {
	// HTTPStatus is the status of the HTTP answer that carried the fault
	// (500 for SOAP 1.2 faults).
	HTTPStatus int
	// Code is the SOAP Code/Value without its prefix: Sender or Receiver.
	Code string
	// Subcode is the siram subcode without its prefix, such as siram_100.
	Subcode string
	// Reason is the Reason/Text meant for the user (French).
	Reason string
	// ErrorCode is the siram:Erreur code attribute: desir_NNN or insi_NNN.
	ErrorCode string
	// Severity is the siram:Erreur severite attribute.
	Severity Severity
	// Detail is the text of the siram:Erreur.
	Detail string
	// MessageID is the siram:Erreur messageID attribute: the wsa:MessageID
	// of the request that failed.
	MessageID string
}

// Error returns "insi: fault <subcode>/<code> (<severity>): <detail>: <reason>".
func (f *Fault) Error() string {
	var b strings.Builder
	b.WriteString("insi: fault ")
	b.WriteString(nonEmpty(f.Subcode, "?"))
	b.WriteByte('/')
	b.WriteString(nonEmpty(f.ErrorCode, "?"))
	if f.Severity != "" {
		b.WriteString(" (")
		b.WriteString(string(f.Severity))
		b.WriteByte(')')
	}
	if f.Detail != "" {
		b.WriteString(": ")
		b.WriteString(f.Detail)
	}
	if f.Reason != "" && f.Reason != f.Detail {
		b.WriteString(": ")
		b.WriteString(f.Reason)
	}
	return b.String()
}

// Is reports whether the fault belongs to target's class: ErrRetryLater,
// ErrConfiguration, ErrUnknownIDAM or ErrAccessLevel.
func (f *Fault) Is(target error) bool {
	switch target {
	case ErrRetryLater:
		return f.Retryable()
	case ErrConfiguration:
		return f.is("desir_550") || f.is("desir_560")
	case ErrUnknownIDAM:
		return f.is("desir_550")
	case ErrAccessLevel:
		return f.is("desir_560")
	}
	return false
}

// Retryable reports whether the same request may succeed later (insi_102).
func (f *Fault) Retryable() bool { return f.is("insi_102") }

func (f *Fault) is(code string) bool { return strings.EqualFold(f.ErrorCode, code) }

// HTTPError is returned when the service answers with an HTTP status other
// than 200 and a body that is not a SOAP fault (a proxy's error page, for
// example). It is not retried.
type HTTPError struct {
	Status int
	// Body is the beginning of the body (at most 512 bytes), for diagnosis.
	Body string
}

// Error returns "insi: HTTP <status>: <body>".
func (e *HTTPError) Error() string {
	s := "insi: HTTP " + strconv.Itoa(e.Status)
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// configError wraps err so that it matches ErrConfiguration as well.
type configError struct{ err error }

func (e *configError) Error() string   { return e.err.Error() }
func (e *configError) Unwrap() []error { return []error{e.err, ErrConfiguration} }
func configErrorf(format string, args ...any) error {
	return &configError{fmt.Errorf(format, args...)}
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
