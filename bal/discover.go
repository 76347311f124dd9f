// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// SRVResolver looks up SRV records; *net.Resolver is one.
type SRVResolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// Operator is where a BAL's operator serves submission and IMAP.
type Operator struct {
	SMTP, IMAP Endpoint
}

// ErrNoService is returned when DNS names no usable server for a service.
var ErrNoService = errors.New("bal: no server announced")

// Discover finds the operator's servers for a mail domain by DNS SRV
// (RFC 6186): _submission._tcp (STARTTLS, 587) then _submissions._tcp
// (implicit TLS, RFC 8314) for SMTP; _imap._tcp (STARTTLS, 143) then
// _imaps._tcp for IMAP. The record of lowest priority is taken (RFC 2782),
// among those of one priority the first in the resolver's order
// (net.Resolver orders them by the RFC 2782 weighted random selection); a
// target "." means the service is not offered (RFC 6186 §3). A record
// whose port is 0 or whose target is not a host name (LDH labels of 1 to
// 63 bytes, 253 bytes in all, RFC 1123 §2.1) is skipped: net.Resolver
// drops such names, another SRVResolver may not. The Host of an endpoint
// found is thus a host name without its final dot, its Port 1 to 65535.
// Endpoints already set in override are kept: explicit configuration
// wins, and DNS is not asked for them.
func Discover(ctx context.Context, domain string, r SRVResolver, override Operator) (Operator, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	op := override
	var err error
	if op.SMTP.Host == "" {
		if op.SMTP, err = lookup(ctx, r, domain, "submission", "submissions"); err != nil {
			return op, err
		}
	}
	if op.IMAP.Host == "" {
		if op.IMAP, err = lookup(ctx, r, domain, "imap", "imaps"); err != nil {
			return op, err
		}
	}
	return op, nil
}

func lookup(ctx context.Context, r SRVResolver, domain, startTLS, implicit string) (Endpoint, error) {
	var errs []string
	for _, svc := range []string{startTLS, implicit} {
		_, srvs, err := r.LookupSRV(ctx, svc, "tcp", domain)
		// net.Resolver returns the valid records along with an error when
		// some were malformed: those are used.
		if err != nil && len(srvs) == 0 {
			errs = append(errs, fmt.Sprintf("_%s._tcp.%s: %v", svc, domain, err))
			continue
		}
		var best *net.SRV
		skipped := 0
		for _, s := range srvs {
			if s == nil {
				continue
			}
			target := strings.TrimSuffix(s.Target, ".")
			if target == "" || s.Port == 0 {
				continue // "." : service decidedly not available (RFC 6186 §3)
			}
			if !hostName(target) {
				skipped++
				continue
			}
			if best == nil || s.Priority < best.Priority {
				best = s
			}
		}
		if best != nil {
			return Endpoint{Host: strings.TrimSuffix(best.Target, "."), Port: int(best.Port), ImplicitTLS: svc == implicit}, nil
		}
		if skipped > 0 {
			errs = append(errs, fmt.Sprintf("_%s._tcp.%s: %d record(s) whose target is not a host name", svc, domain, skipped))
			continue
		}
		errs = append(errs, fmt.Sprintf("_%s._tcp.%s: not offered", svc, domain))
	}
	return Endpoint{}, fmt.Errorf("%w for %s: %s", ErrNoService, domain, strings.Join(errs, "; "))
}

// hostName reports whether s is a host name: labels of 1 to 63 letters,
// digits and hyphens, not starting or ending with a hyphen, separated by
// dots, 253 bytes at most (RFC 1123 §2.1, RFC 1035 §2.3.4).
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
