// SPDX-License-Identifier: Apache-2.0

package bal_test

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Netflix/bettertls/test-suites/certutil"
	"github.com/Netflix/bettertls/test-suites/nameconstraints"
	"github.com/Netflix/bettertls/test-suites/pathbuilding"
	test_case "github.com/Netflix/bettertls/test-suites/test-case"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
)

// Netflix BetterTLS (github.com/Netflix/bettertls, test-suites) runs its
// path-building and name-constraints suites against bal.Trust: every test
// case's server chain is presented by a real TLS server on loopback, and a
// handshake is made with the tls.Config of a bal.Trust whose only root is
// the suite's trust anchor. The case passes when the handshake's outcome
// (accepted or refused) is the one the suite expects.
//
// The rules of BetterTLS's own executor (test-suites/test-executor) are
// applied: the suite's sanity case must pass; a feature (branching paths,
// each reason an edge is invalid, name constraints, DNS and IP name
// validation) counts as supported when all the cases the suite lists for it
// pass; a case that needs an unsupported feature is skipped; SOFT_PASS and
// SOFT_FAIL cases pass either way. The executor itself is not used: its
// server listens on every interface, this one on 127.0.0.1 only.
//
// CI runs the whole path-building suite, and of the name-constraints one
// (9,491 cases, about a minute under the race detector) the feature cases
// and every betterTLSStride-th case; MSS_BETTERTLS=full runs them all
// (figures in docs/security.md).
//
// Revocation is off in these runs (Trust.SkipRevocation): the suites'
// certificates name no CRL distribution point and the keys of their
// intermediate authorities never leave the suite, so no CRL can be issued
// for them; a Trust with revocation on refuses every chain of the suite
// with ErrRevocationUnknown, which TestBetterTLSHarness shows on the
// sanity case. Revocation is proven by the CRL tests of this package.
func TestBetterTLS(t *testing.T) {
	full := os.Getenv("MSS_BETTERTLS") == "full"
	root, rootKey, err := certutil.GenerateSelfSignedCert("bettertls_trust_root")
	require.NoError(t, err)
	srv := newSuiteServer(t)
	trust := &bal.Trust{Roots: []*x509.Certificate{root}, SkipRevocation: true}
	config := func(host string) (*tls.Config, error) { return trust.TLSConfig(host) }
	for _, p := range []test_case.TestCaseProvider{pathbuilding.NewTestCaseProvider(), nameconstraints.NewTestCaseProvider()} {
		t.Run(p.Name(), func(t *testing.T) {
			stride := betterTLSStride
			if full || p.Name() == "pathbuilding" { // 81 cases: all of them
				stride = 1
			}
			r := runBetterTLS(t, p, root, rootKey, srv, config, stride)
			t.Logf("%s: %d cases (%d expect a refusal, %d either outcome), %d run, %d passed, %d failed, %d skipped (unsupported feature), %d not in this subset; unsupported features: %v",
				p.Name(), r.total, r.expectFail, r.soft, r.run, r.passed, len(r.failed), r.skipped, r.notRun, r.unsupported)
			assert.Empty(t, r.unsupported, "features bal.Trust does not support")
			for _, f := range r.failed {
				t.Errorf("case %d: %s", f.idx, f.what)
			}
		})
	}
}

// betterTLSStride: CI runs every betterTLSStride-th case of the
// name-constraints suite (and all the cases that decide the features).
const betterTLSStride uint = 7

type betterTLSResult struct {
	total, expectFail, soft, run, passed, skipped, notRun int
	unsupported                                           []string
	failed                                                []betterTLSFailure
}

type betterTLSFailure struct {
	idx  uint
	what string
}

// runBetterTLS runs the cases of p (the feature cases, and every stride-th
// of the others) with the client configurations config gives for a host.
func runBetterTLS(t *testing.T, p test_case.TestCaseProvider, root *x509.Certificate, rootKey crypto.Signer, srv *suiteServer,
	config func(host string) (*tls.Config, error), stride uint) betterTLSResult {
	t.Helper()
	n, err := p.GetTestCaseCount()
	require.NoError(t, err)
	r := betterTLSResult{total: int(n)}
	// run returns whether the case's outcome is the one expected, and what
	// happened.
	run := func(idx uint) (bool, string) {
		tc, err := p.GetTestCase(idx)
		require.NoError(t, err)
		cert, err := tc.GetCertificates(root, rootKey)
		require.NoError(t, err)
		err = srv.handshake(t, cert, config, tc.GetHostname())
		accepted := err == nil
		switch tc.ExpectedResult() {
		case test_case.EXPECTED_RESULT_PASS:
			if !accepted {
				return false, fmt.Sprintf("expected accepted, refused: %v", err)
			}
		case test_case.EXPECTED_RESULT_FAIL:
			if accepted {
				return false, "expected refused, accepted"
			}
		}
		return true, ""
	}
	sanity, err := p.GetSanityCheckTestCase()
	require.NoError(t, err)
	ok, what := run(sanity)
	require.True(t, ok, "sanity case %d: %s", sanity, what)

	supported := map[test_case.Feature]bool{}
	decides := map[uint]bool{sanity: true}
	for _, f := range p.GetFeatures() {
		idxs, err := p.GetTestCasesForFeature(f)
		require.NoError(t, err)
		supported[f] = true
		for _, idx := range idxs {
			decides[idx] = true
			if ok, _ := run(idx); !ok {
				supported[f] = false
				r.unsupported = append(r.unsupported, p.DescribeFeature(f))
				break
			}
		}
	}
	sort.Strings(r.unsupported)
	for idx := uint(0); idx < n; idx++ {
		tc, err := p.GetTestCase(idx)
		require.NoError(t, err)
		switch tc.ExpectedResult() {
		case test_case.EXPECTED_RESULT_FAIL:
			r.expectFail++
		case test_case.EXPECTED_RESULT_SOFT_FAIL, test_case.EXPECTED_RESULT_SOFT_PASS:
			r.soft++
		}
		if idx%stride != 0 && !decides[idx] {
			r.notRun++
			continue
		}
		skip := false
		for _, f := range tc.RequiredFeatures() {
			if !supported[f] {
				skip = true
			}
		}
		if skip {
			r.skipped++
			continue
		}
		r.run++
		if ok, what := run(idx); ok {
			r.passed++
		} else {
			r.failed = append(r.failed, betterTLSFailure{idx, what})
		}
	}
	return r
}

// suiteServer is a TLS server on 127.0.0.1 presenting the chain of the
// case under test.
type suiteServer struct {
	addr string
	cert atomic.Pointer[tls.Certificate]
}

func newSuiteServer(t *testing.T) *suiteServer {
	s := &suiteServer{}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		SessionTicketsDisabled: true, // a full handshake, hence a verification, every time
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.cert.Load(), nil
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c.SetDeadline(time.Now().Add(time.Minute))
				c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	s.addr = ln.Addr().String()
	return s
}

// handshake presents cert and connects with config's configuration for
// host; nil means the client accepted the chain.
func (s *suiteServer) handshake(t *testing.T, cert *tls.Certificate, config func(string) (*tls.Config, error), host string) error {
	t.Helper()
	s.cert.Store(cert)
	cfg, err := config(host)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard
	defer cancel()
	c, err := (&tls.Dialer{Config: cfg, NetDialer: &net.Dialer{}}).DialContext(ctx, "tcp", s.addr)
	if err == nil {
		c.Close()
	}
	if err != nil && strings.Contains(err.Error(), "i/o timeout") {
		t.Fatalf("handshake hung: %v", err)
	}
	return err
}

// The harness can fail: a client that accepts any chain (no verification)
// passes the sanity case but loses every feature of the path-building
// suite that rests on a refusal, and with the Trust's own feature checks
// the harness would report it. With revocation on, the Trust refuses the
// suite's sanity chain, which names no distribution point, as of unknown
// status (the reason TestBetterTLS runs with SkipRevocation).
func TestBetterTLSHarness(t *testing.T) {
	root, rootKey, err := certutil.GenerateSelfSignedCert("bettertls_trust_root")
	require.NoError(t, err)
	srv := newSuiteServer(t)
	p := pathbuilding.NewTestCaseProvider()
	accept := func(host string) (*tls.Config, error) {
		return &tls.Config{ServerName: host, InsecureSkipVerify: true}, nil
	}
	r := runBetterTLS(t, p, root, rootKey, srv, accept, 1)
	t.Logf("a client that verifies nothing: %d run, %d failed, unsupported features: %v", r.run, len(r.failed), r.unsupported)
	assert.NotEmpty(t, r.unsupported, "a client that verifies nothing supports every feature")

	sanity, err := p.GetSanityCheckTestCase()
	require.NoError(t, err)
	tc, err := p.GetTestCase(sanity)
	require.NoError(t, err)
	cert, err := tc.GetCertificates(root, rootKey)
	require.NoError(t, err)
	withCRL := &bal.Trust{Roots: []*x509.Certificate{root}, CRLs: &bal.CRLCache{}}
	err = srv.handshake(t, cert, func(host string) (*tls.Config, error) { return withCRL.TLSConfig(host) }, tc.GetHostname())
	assert.ErrorIs(t, err, bal.ErrRevocationUnknown)
	assert.ErrorContains(t, err, "no CRL distribution point")
}
