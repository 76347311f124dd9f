// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// CertificateValidityError is a certificate used outside its validity
// period; it wraps ErrCertificateExpired or ErrCertificateNotYetValid.
type CertificateValidityError struct {
	// Subject is the certificate's subject (its common name when set).
	Subject string
	// NotBefore and NotAfter are the certificate's validity period.
	NotBefore, NotAfter time.Time
	// At is the instant it was checked at.
	At time.Time
}

// Errors of a certificate loaded outside its validity period.
var (
	// ErrCertificateExpired: the certificate's NotAfter has passed.
	ErrCertificateExpired = errors.New("bal: certificate expired")
	// ErrCertificateNotYetValid: the certificate's NotBefore is still to
	// come (a clock that is wrong, or a certificate delivered early).
	ErrCertificateNotYetValid = errors.New("bal: certificate not yet valid")
)

func (e *CertificateValidityError) Error() string {
	return fmt.Sprintf("%v: %q is valid from %s to %s, not at %s", e.Unwrap(), e.Subject,
		e.NotBefore.UTC().Format(time.RFC3339), e.NotAfter.UTC().Format(time.RFC3339), e.At.UTC().Format(time.RFC3339))
}

// Unwrap returns ErrCertificateExpired or ErrCertificateNotYetValid.
func (e *CertificateValidityError) Unwrap() error {
	if e.At.Before(e.NotBefore) {
		return ErrCertificateNotYetValid
	}
	return ErrCertificateExpired
}

// checkValidity refuses a certificate outside its validity period at now
// (RFC 5280 §4.1.2.5: valid from NotBefore to NotAfter inclusive).
func checkValidity(c *x509.Certificate, now time.Time) error {
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		subject := c.Subject.CommonName
		if subject == "" {
			subject = c.Subject.String()
		}
		return &CertificateValidityError{Subject: subject, NotBefore: c.NotBefore, NotAfter: c.NotAfter, At: now}
	}
	return nil
}

// PKCS12Option changes how NewCertificateFromPKCS12 loads a file.
type PKCS12Option func(*pkcs12Options)

type pkcs12Options struct {
	now func() time.Time
}

// ValidAt makes NewCertificateFromPKCS12 check the certificate's validity
// period against the clock now instead of time.Now (tests; a nil now
// means time.Now), as CPSConfig.Now does for a card.
func ValidAt(now func() time.Time) PKCS12Option {
	return func(o *pkcs12Options) { o.now = now }
}
