// SPDX-License-Identifier: Apache-2.0

//go:build unix

package baltest

import (
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lmtpDeliver delivers msg to the recipients over LMTP (RFC 2033) and
// returns one reply per recipient after DATA ("250 ..." or the refusal); a
// recipient refused at RCPT gets its RCPT reply instead.
func lmtpDeliver(t testing.TB, addr, from string, rcpts []string, msg string) map[string]string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute)) // a hang guard for the whole exchange
	tp := textproto.NewConn(conn)
	expect := func(code int, format string, args ...any) string {
		t.Helper()
		if format != "" {
			require.NoError(t, tp.PrintfLine(format, args...))
		}
		got, text, err := tp.ReadResponse(0)
		if code != 0 {
			require.Equal(t, code, got, "LMTP %q: %s %v", fmt.Sprintf(format, args...), text, err)
		}
		return fmt.Sprintf("%d %s", got, text)
	}
	expect(220, "")
	expect(250, "LHLO localhost")
	expect(250, "MAIL FROM:<%s>", from)
	replies := map[string]string{}
	var accepted []string
	for _, r := range rcpts {
		reply := expect(0, "RCPT TO:<%s>", r)
		if strings.HasPrefix(reply, "250") {
			accepted = append(accepted, r)
		} else {
			replies[r] = reply
		}
	}
	if len(accepted) == 0 {
		return replies
	}
	expect(354, "DATA")
	w := tp.DotWriter()
	_, err = w.Write([]byte(msg))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	for _, r := range accepted {
		replies[r] = expect(0, "")
	}
	expect(221, "QUIT")
	return replies
}
