package bal_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

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

// guard returns a context that ends two minutes from now, for one step of
// a test (a send, a wait for a delivery, a loop pass): a bound against a
// hang that starts when the step starts, never a measure of the machine's
// speed. A test gives each step its own guard rather than one deadline for
// all the work before it.
func guard(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
