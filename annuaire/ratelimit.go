package annuaire

import (
	"context"
	"sync"
	"time"
)

// DefaultRate is the Annuaire Santé gateway's limit: 17 calls per second per
// application (ANS documentation, "Obtenir une clé d'API", 2026-06-30).
const DefaultRate = 17

// Limiter spaces requests evenly so that at most Rate start in any second:
// each caller reserves the next free start time, then waits for it. One
// Limiter is shared by all the calls of a Client, and may be shared by
// several Clients using the same API key. Use NewLimiter.
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
}

// NewLimiter returns a limiter of perSecond requests per second (DefaultRate
// when perSecond ≤ 0).
func NewLimiter(perSecond float64) *Limiter {
	if perSecond <= 0 {
		perSecond = DefaultRate
	}
	return &Limiter{
		interval: time.Duration(float64(time.Second) / perSecond),
		now:      time.Now,
		sleep:    sleepCtx,
	}
}

// Wait blocks until the caller may send a request, or ctx ends. A caller
// whose context ends while waiting gives its slot back only if no later
// caller reserved one after it (the rate is never exceeded either way).
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		if err := l.sleep(ctx, d); err != nil {
			l.mu.Lock()
			if l.next.Equal(at.Add(l.interval)) {
				l.next = at
			}
			l.mu.Unlock()
			return err
		}
	}
	return nil
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
