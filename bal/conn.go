// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// connWatch closes a connection when timeout passes or ctx ends, whichever
// comes first, until done is called: go-smtp and go-imap watch neither
// during the greeting, STARTTLS and authentication.
type connWatch struct {
	ctx     context.Context
	timeout time.Duration
	expired atomic.Bool
	timer   *time.Timer
	stopCtx func() bool
	once    sync.Once
	inTime  bool
}

func watchConn(ctx context.Context, conn net.Conn, timeout time.Duration) *connWatch {
	w := &connWatch{ctx: ctx, timeout: timeout}
	w.timer = time.AfterFunc(timeout, func() { w.expired.Store(true); conn.Close() })
	w.stopCtx = context.AfterFunc(ctx, func() { conn.Close() })
	return w
}

// explain adds why the connection was closed to an error it caused: the
// timeout ("no answer within …", wrapping ErrTimeout, hence
// os.ErrDeadlineExceeded) or the end of ctx (wrapping its error).
func (w *connWatch) explain(err error) error {
	if w.ctx.Err() == nil && w.expired.Load() {
		return &timeoutError{after: w.timeout, cause: err}
	}
	return withCtx(w.ctx, err)
}

// expiredErr is the error of a watch whose timeout passed although the
// work it watched returned without error (done reported false).
func (w *connWatch) expiredErr() error { return &timeoutError{after: w.timeout} }

// withCtx wraps err with ctx's error when ctx has ended: the connection
// was then closed because of it, and errors.Is(err, context.Canceled or
// DeadlineExceeded) should say so.
func withCtx(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// done stops watching; it reports false when timeout had already passed
// (the connection is closed). Later calls return the first answer.
func (w *connWatch) done() bool {
	w.once.Do(func() {
		w.stopCtx()
		w.inTime = w.timer.Stop() && !w.expired.Load()
	})
	return w.inTime
}
