package bal_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"

	"golang.org/x/oauth2"
)

type x509Cert = x509.Certificate

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

type oauth2Token = oauth2.Token

// handshakeServer listens with cfg on loopback, completes each TLS
// handshake and hangs up: a server whose certificate and versions are all
// a test looks at. It returns the address; it stops when the test ends.
func handshakeServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	return ln.Addr().String()
}
