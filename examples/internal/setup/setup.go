// SPDX-License-Identifier: Apache-2.0

// Package setup holds what the example programs that talk to an operator
// all need: certificates from a PEM file, the BAL's PKCS#12 certificate,
// an operator endpoint from host:port, and the signed trace log from its
// key files. It is internal to the examples.
package setup

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/trace"
)

// ReadCertificates reads every certificate of a PEM file (the IGC-Santé
// roots, or the intermediates sent after a CPS card's certificate).
func ReadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for b, rest := pem.Decode(data); b != nil; b, rest = pem.Decode(rest) {
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no certificate", path)
	}
	return certs, nil
}

// OpenPKCS12 reads a BAL's software certificate from a PKCS#12 file, its
// password from the environment variable passwordEnv (never from a flag).
func OpenPKCS12(path, passwordEnv string) (*bal.Certificate, error) {
	pfx, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cert, err := bal.NewCertificateFromPKCS12(pfx, os.Getenv(passwordEnv))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cert, nil
}

// ParseEndpoint reads host:port; the port implicitTLSPort (465 for SMTP,
// 993 for IMAP) means implicit TLS, any other STARTTLS. An empty address
// gives the zero Endpoint (left to discovery). flag names the option in
// errors.
func ParseEndpoint(flag, hostport string, implicitTLSPort int) (bal.Endpoint, error) {
	if hostport == "" {
		return bal.Endpoint{}, nil
	}
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return bal.Endpoint{}, fmt.Errorf("%s: %w", flag, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return bal.Endpoint{}, fmt.Errorf("%s: port %q", flag, p)
	}
	return bal.Endpoint{Host: h, Port: n, ImplicitTLS: n == implicitTLSPort}, nil
}

// OpenTrace opens the durable trace log at path, signed with the note key
// in signerFile and checked with the one in verifierFile.
func OpenTrace(path, signerFile, verifierFile, mailbox string) (*trace.FileLog, error) {
	key := func(f string) (string, error) {
		b, err := os.ReadFile(f)
		return strings.TrimSpace(string(b)), err
	}
	sk, err := key(signerFile)
	if err != nil {
		return nil, err
	}
	vk, err := key(verifierFile)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(sk)
	if err != nil {
		return nil, fmt.Errorf("trace signer key: %w", err)
	}
	verifier, err := note.NewVerifier(vk)
	if err != nil {
		return nil, fmt.Errorf("trace verifier key: %w", err)
	}
	return trace.OpenFileLog(trace.FileLogConfig{Path: path, Origin: "gomss trace " + mailbox,
		Signer: signer, Verifier: verifier, Durable: true})
}
