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
// _imaps._tcp for IMAP. Records are taken in the resolver's order
// (priority, then weight); a target "." means the service is not offered.
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
		for _, s := range srvs {
			target := strings.TrimSuffix(s.Target, ".")
			if target == "" || s.Port == 0 {
				continue // "." : service decidedly not available (RFC 6186 §3)
			}
			return Endpoint{Host: target, Port: int(s.Port), ImplicitTLS: svc == implicit}, nil
		}
		errs = append(errs, fmt.Sprintf("_%s._tcp.%s: not offered", svc, domain))
	}
	return Endpoint{}, fmt.Errorf("%w for %s: %s", ErrNoService, domain, strings.Join(errs, "; "))
}
