// SPDX-License-Identifier: Apache-2.0

package bal_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
)

// srvServices are the services Discover asks for, in its order.
var srvServices = []string{"submission", "submissions", "imap", "imaps"}

// fuzzDNS is an SRVResolver made of fuzzed answers: records for each
// service, in the order decoded, and for some services an error returned
// with them (as net.Resolver does with a partly malformed answer) or
// instead of them.
type fuzzDNS struct {
	records [4][]*net.SRV
	errs    [4]error
}

// decodeDNS reads data as: a flags byte (bits 0-3: service i answers with
// an error too; bits 4-7: service i fails with no record), then records
// of 7 bytes plus a target: service (mod 4), priority, weight and port
// (big-endian uint16, priority and weight one byte each here), target
// length, target.
func decodeDNS(data []byte) *fuzzDNS {
	d := &fuzzDNS{}
	if len(data) == 0 {
		return d
	}
	flags := data[0]
	data = data[1:]
	for len(data) >= 5 {
		svc := int(data[0]) % 4
		prio, weight := uint16(data[1]), uint16(data[2])
		port := binary.BigEndian.Uint16(data[3:5])
		data = data[5:]
		n := 0
		if len(data) > 0 {
			n = min(int(data[0]), len(data)-1)
			data = data[1:]
		}
		target := string(data[:n])
		data = data[n:]
		d.records[svc] = append(d.records[svc], &net.SRV{Target: target, Port: port, Priority: prio, Weight: weight})
	}
	for i := range 4 {
		switch {
		case flags&(1<<(4+i)) != 0:
			d.records[i], d.errs[i] = nil, &net.DNSError{Err: "no such host", IsNotFound: true}
		case flags&(1<<i) != 0:
			d.errs[i] = errors.New("cannot unmarshal DNS message")
		}
	}
	return d
}

func (d *fuzzDNS) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	for i, s := range srvServices {
		if s == service && proto == "tcp" {
			return "_" + service + "._tcp." + name, d.records[i], d.errs[i]
		}
	}
	return "", nil, &net.DNSError{Err: "no such host", IsNotFound: true}
}

// ldhHost is a host name as RFC 1123 §2.1 writes one (checked with the
// 253-byte limit apart).
var ldhHost = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// wantEndpoint is what RFC 6186 and RFC 2782 say Discover should find
// among the answers for the STARTTLS service (index i) then the implicit
// TLS one (i+1): the first service with a usable record (a host name, a
// port), its record of lowest priority, the first of those.
func wantEndpoint(d *fuzzDNS, i int) (bal.Endpoint, bool) {
	for _, k := range []int{i, i + 1} {
		var best *net.SRV
		for _, s := range d.records[k] {
			host := strings.TrimSuffix(s.Target, ".")
			if s.Port == 0 || len(host) > 253 || !ldhHost.MatchString(host) {
				continue
			}
			if best == nil || s.Priority < best.Priority {
				best = s
			}
		}
		if best != nil {
			return bal.Endpoint{Host: strings.TrimSuffix(best.Target, "."), Port: int(best.Port), ImplicitTLS: k == i+1}, true
		}
	}
	return bal.Endpoint{}, false
}

// FuzzDiscover: from any SRV answers, Discover returns endpoints that are
// host names (no final dot) with a port 1 to 65535, the ones RFC 6186 and
// RFC 2782 designate (wantEndpoint), explicit ones kept as given; or
// ErrNoService when no answer designates one.
func FuzzDiscover(f *testing.F) {
	rec := func(svc byte, prio, weight byte, port uint16, target string) []byte {
		b := []byte{svc, prio, weight, byte(port >> 8), byte(port), byte(len(target))}
		return append(b, target...)
	}
	cat := func(flags byte, recs ...[]byte) []byte {
		out := []byte{flags}
		for _, r := range recs {
			out = append(out, r...)
		}
		return out
	}
	f.Add(cat(0, rec(0, 0, 0, 587, "smtp.operateur.fr."), rec(3, 0, 0, 993, "imap.operateur.fr."), rec(2, 0, 0, 0, ".")), byte(0))
	f.Add(cat(0x05, rec(0, 0, 0, 587, "smtp.operateur.fr."), rec(2, 0, 0, 143, "imap.operateur.fr.")), byte(0))
	f.Add(cat(0, rec(0, 20, 0, 587, "secours.operateur.fr"), rec(0, 10, 5, 587, "smtp.operateur.fr"), rec(0, 10, 1, 587, "autre.operateur.fr"),
		rec(2, 0, 0, 143, "imap operateur.fr"), rec(3, 0, 0, 993, "imap\x00.fr"), rec(3, 1, 0, 993, "imap.operateur.fr")), byte(0))
	f.Add(cat(0xf0), byte(3))
	f.Add(cat(0x30, rec(1, 0, 0, 465, "smtp.operateur.fr"), rec(3, 0, 0, 993, "-imap.fr"), rec(3, 0, 0, 993, "imap..fr")), byte(1))
	f.Add(cat(0, rec(0, 0, 0, 65535, strings.Repeat("a", 63)+"."+strings.Repeat("b", 63)+".fr"), rec(2, 0, 0, 1, "1.2.3.4")), byte(2))
	override := bal.Endpoint{Host: "relais.local", Port: 2587}
	f.Fuzz(func(t *testing.T, data []byte, over byte) {
		d := decodeDNS(data)
		var o bal.Operator
		if over&1 != 0 {
			o.SMTP = override
		}
		if over&2 != 0 {
			o.IMAP = override
		}
		op, err := bal.Discover(context.Background(), "lilas.mssante.fr", d, o)
		wantSMTP, okSMTP := wantEndpoint(d, 0)
		wantIMAP, okIMAP := wantEndpoint(d, 2)
		if over&1 != 0 {
			wantSMTP, okSMTP = override, true
		}
		if over&2 != 0 {
			wantIMAP, okIMAP = override, true
		}
		if err != nil {
			require.ErrorIs(t, err, bal.ErrNoService)
			require.False(t, okSMTP && okIMAP, "refused, but SMTP %+v and IMAP %+v were announced: %v", wantSMTP, wantIMAP, err)
			return
		}
		require.True(t, okSMTP && okIMAP, "found %+v from answers that announce none", op)
		require.Equal(t, wantSMTP, op.SMTP)
		require.Equal(t, wantIMAP, op.IMAP)
		for _, ep := range []bal.Endpoint{op.SMTP, op.IMAP} {
			if ep == override {
				continue
			}
			require.Regexp(t, ldhHost, ep.Host)
			require.LessOrEqual(t, len(ep.Host), 253)
			require.False(t, strings.HasSuffix(ep.Host, "."))
			require.True(t, ep.Port >= 1 && ep.Port <= 65535, "port %d", ep.Port)
		}
	})
}
