// SPDX-License-Identifier: Apache-2.0

package bal_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
)

type fakeDNS map[string][]*net.SRV

func (f fakeDNS) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	k := "_" + service + "._" + proto + "." + name
	if srvs, ok := f[k]; ok {
		return k, srvs, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: k, IsNotFound: true}
}

func TestDiscover(t *testing.T) {
	dns := fakeDNS{
		"_submission._tcp.lilas.mssante.fr": {{Target: "smtp.operateur.fr.", Port: 587, Priority: 0}},
		"_imaps._tcp.lilas.mssante.fr":      {{Target: "imap.operateur.fr.", Port: 993}},
		"_imap._tcp.lilas.mssante.fr":       {{Target: ".", Port: 0}},
	}
	op, err := bal.Discover(context.Background(), "lilas.mssante.fr", dns, bal.Operator{})
	require.NoError(t, err)
	assert.Equal(t, bal.Endpoint{Host: "smtp.operateur.fr", Port: 587}, op.SMTP)
	assert.Equal(t, bal.Endpoint{Host: "imap.operateur.fr", Port: 993, ImplicitTLS: true}, op.IMAP)
	// Explicit configuration wins.
	over := bal.Operator{SMTP: bal.Endpoint{Host: "relais.local", Port: 2587}}
	op, _ = bal.Discover(context.Background(), "lilas.mssante.fr", dns, over)
	assert.Equal(t, over.SMTP, op.SMTP, "override lost")
	_, err = bal.Discover(context.Background(), "inconnu.mssante.fr", dns, bal.Operator{})
	assert.ErrorIs(t, err, bal.ErrNoService, "unknown domain")
}

// partialDNS answers with valid records and an error, as net.Resolver does
// when some records of the answer are malformed.
type partialDNS struct{ fakeDNS }

func (p partialDNS) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	_, srvs, err := p.fakeDNS.LookupSRV(ctx, service, proto, name)
	if err == nil {
		err = errors.New("cannot unmarshal DNS message: some records are malformed")
	}
	return "", srvs, err
}

// The valid records that come with an error are used, not dropped.
func TestDiscoverPartialAnswer(t *testing.T) {
	dns := partialDNS{fakeDNS{
		"_submission._tcp.lilas.mssante.fr": {{Target: "smtp.operateur.fr.", Port: 587}},
		"_imap._tcp.lilas.mssante.fr":       {{Target: "imap.operateur.fr.", Port: 143}},
	}}
	op, err := bal.Discover(context.Background(), "lilas.mssante.fr", dns, bal.Operator{})
	assert.NoError(t, err)
	assert.Equal(t, "smtp.operateur.fr", op.SMTP.Host)
	assert.Equal(t, "imap.operateur.fr", op.IMAP.Host)
}

// A record whose target is not a host name (a space, a NUL, an empty
// label) is skipped, and the lowest priority wins whatever the
// resolver's order (before the change the first record was taken as it
// was, found by FuzzDiscover).
func TestDiscoverRecordChecks(t *testing.T) {
	dns := fakeDNS{
		"_submission._tcp.lilas.mssante.fr": {
			{Target: "smtp operateur.fr.", Port: 587},
			{Target: "smtp\x00.operateur.fr", Port: 587},
			{Target: "smtp..operateur.fr", Port: 587},
			{Target: "secours.operateur.fr.", Port: 587, Priority: 20},
			{Target: "smtp.operateur.fr.", Port: 587, Priority: 10},
			{Target: "autre.operateur.fr.", Port: 587, Priority: 10},
		},
		"_imap._tcp.lilas.mssante.fr":  {{Target: "-imap.operateur.fr", Port: 143}, {Target: "imap_.operateur.fr", Port: 143}},
		"_imaps._tcp.lilas.mssante.fr": {{Target: "imap.operateur.fr", Port: 993}},
	}
	op, err := bal.Discover(context.Background(), "lilas.mssante.fr", dns, bal.Operator{})
	require.NoError(t, err)
	assert.Equal(t, bal.Endpoint{Host: "smtp.operateur.fr", Port: 587}, op.SMTP)
	assert.Equal(t, bal.Endpoint{Host: "imap.operateur.fr", Port: 993, ImplicitTLS: true}, op.IMAP)

	delete(dns, "_imaps._tcp.lilas.mssante.fr")
	_, err = bal.Discover(context.Background(), "lilas.mssante.fr", dns, bal.Operator{})
	require.ErrorIs(t, err, bal.ErrNoService)
	assert.Contains(t, err.Error(), "_imap._tcp.lilas.mssante.fr: 2 record(s) whose target is not a host name")
}
