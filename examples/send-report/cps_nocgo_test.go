// SPDX-License-Identifier: Apache-2.0

//go:build !cgo

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/examples/internal/exampletest"
)

// TestPKCS11WithoutCgo: a CGO_ENABLED=0 build refuses -pkcs11 with
// bal.ErrCPSUnsupported, which says why, before connecting (.ci/run runs
// this package's tests once without cgo). The program has no code of its
// own for this build: bal's CPS API is there without cgo.
func TestPKCS11WithoutCgo(t *testing.T) {
	e := exampletest.New(t)
	args := append(reportArgs(t, "jean.dupont@test.mssante.fr", "lps@test.mssante.fr"), "-smtp", e.Op.SMTPAddr)
	args = append(append(args, e.Args()...), "-pkcs11", "/usr/lib/softhsm/libsofthsm2.so")
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), bal.ErrCPSUnsupported.Error()) {
		t.Fatalf("exit %d, want 1 with %q: %s", code, bal.ErrCPSUnsupported, stderr.String())
	}
	if n := len(e.Op.Messages("lps@test.mssante.fr", "INBOX")); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}
