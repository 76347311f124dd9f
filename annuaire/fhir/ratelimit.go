// SPDX-License-Identifier: Apache-2.0

package fhir

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// DefaultRate is the Annuaire Santé gateway's limit: 17 calls per second per
// application (ANS documentation, "Obtenir une clé d'API", 2026-06-30).
const DefaultRate = 17

// Limiter spaces a Client's requests: the Client calls Wait before each
// attempt (retries included) and sends nothing when it fails. A
// *rate.Limiter of golang.org/x/time/rate is one (see NewLimiter); so is a
// limiter shared with other programs using the same API key, as long as
// Wait blocks until a request may start and returns ctx's error when ctx
// ends first.
type Limiter interface {
	Wait(ctx context.Context) error
}

// NewLimiter returns the limiter a Client uses by default: perSecond
// requests per second (DefaultRate when perSecond ≤ 0) spaced evenly, a
// token bucket of one token (burst 1), so that no more than perSecond
// requests start in any second even after an idle time. Share one between
// the Clients using the same API key: the gateway counts per key.
func NewLimiter(perSecond float64) *rate.Limiter {
	if perSecond <= 0 {
		perSecond = DefaultRate
	}
	return rate.NewLimiter(rate.Limit(perSecond), 1)
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
