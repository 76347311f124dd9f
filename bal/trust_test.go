package bal_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/trace"
)

// A server that offers only TLS 1.1 is refused, by the receiver and the
// sender alike; TLS below 1.2 cannot be configured.
func TestTLS11ServerRefused(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := pki.ServerTLSConfig()
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true}
	auth, _ := bal.NewCertificate(pki.ORG.TLSCertificate())
	ep := endpoint(t, ln.Addr().String(), true)
	rec := trace.RecorderFunc(func(context.Context, trace.Event) error { return nil })
	r := &bal.Receiver{Server: ep, ServerName: "localhost", Trust: trust, Auth: auth, Mailbox: trace.Mailbox{Address: "a@b.mssante.fr"}, Trace: rec}
	if _, err := r.Open(context.Background()); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("IMAP over TLS 1.1: %v", err)
	}
	s := &bal.Sender{Server: ep, ServerName: "localhost", Trust: trust, Auth: auth, Mailbox: trace.Mailbox{Address: "a@b.mssante.fr"}, Trace: rec}
	if _, err := s.Send(context.Background(), report(baltest.CPSUser)); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("SMTP over TLS 1.1: %v", err)
	}
	if _, err := (&bal.Trust{Roots: trust.Roots, MinVersion: tls.VersionTLS11}).TLSConfig("x"); err == nil {
		t.Error("a TLS 1.1 minimum was accepted")
	}
	if _, err := (&bal.Trust{}).TLSConfig("x"); !errors.Is(err, bal.ErrNoRoots) {
		t.Errorf("no roots: %v", err)
	}
}
