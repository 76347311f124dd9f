// SPDX-License-Identifier: Apache-2.0

package bal_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
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

// endpoint is the bal.Endpoint of a host:port address.
func endpoint(t *testing.T, addr string, implicit bool) bal.Endpoint {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	return bal.Endpoint{Host: host, Port: p, ImplicitTLS: implicit}
}

// report is a message with one CDA + PDF document, a read receipt and a
// DSN request, from the ORG test mailbox.
func report(to ...string) *mssante.Message {
	return &mssante.Message{
		From: mssante.Sender{Address: baltest.ORGUser, Kind: mssante.Applicative, Entity: "LPS de test"},
		To:   to, Text: "Compte rendu ci-joint.",
		Documents: []mssante.Document{{Header: testdocs.Header(testdocs.Patient("test", true), "11488-4", time.Now()),
			PDF: mssante.BytesOpener(testdocs.PDF("CR", 20_000))}},
		XDM:         xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
		Product:     "DEV000000",
		ReadReceipt: true,
		DSN:         mssante.DSN{Notify: []string{"SUCCESS", "FAILURE"}, Return: "HDRS"},
	}
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
