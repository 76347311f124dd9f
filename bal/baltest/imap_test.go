// SPDX-License-Identifier: Apache-2.0

//go:build unix

package baltest

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// imapConn is the smallest IMAP client the tests need: one command at a
// time, no literals in responses.
type imapConn struct {
	t    testing.TB
	conn net.Conn
	tp   *textproto.Conn
	tag  int
}

// dialIMAP connects to addr with implicit TLS, or with STARTTLS when
// startTLS is set, and reads the greeting.
func dialIMAP(t testing.TB, addr string, startTLS bool, cfg *tls.Config) (*imapConn, error) {
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	raw.SetDeadline(time.Now().Add(2 * time.Minute)) // a hang guard for the whole exchange
	c := &imapConn{t: t, conn: raw, tp: textproto.NewConn(raw)}
	t.Cleanup(func() { raw.Close() })
	if startTLS {
		if line, err := c.tp.ReadLine(); err != nil || !strings.HasPrefix(line, "* OK") {
			return nil, fmt.Errorf("greeting %q: %v", line, err)
		}
		if _, err := c.cmd("STARTTLS"); err != nil {
			return nil, err
		}
	}
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	tc := tls.Client(raw, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	c.conn, c.tp = tc, textproto.NewConn(tc)
	if !startTLS {
		if line, err := c.tp.ReadLine(); err != nil || !strings.HasPrefix(line, "* OK") {
			return nil, fmt.Errorf("greeting %q: %v", line, err)
		}
	}
	return c, nil
}

// cmd sends a tagged command and returns the untagged lines; a NO or BAD
// completion is an error holding the line.
func (c *imapConn) cmd(line string) ([]string, error) {
	c.tag++
	tag := fmt.Sprintf("a%d", c.tag)
	if err := c.tp.PrintfLine("%s %s", tag, line); err != nil {
		return nil, err
	}
	var untagged []string
	for {
		l, err := c.tp.ReadLine()
		if err != nil {
			return untagged, err
		}
		switch {
		case strings.HasPrefix(l, tag+" OK"):
			return untagged, nil
		case strings.HasPrefix(l, tag+" "):
			return untagged, fmt.Errorf("%s", strings.TrimPrefix(l, tag+" "))
		case strings.HasPrefix(l, "+"):
			// A SASL challenge after a failure (XOAUTH2's JSON error):
			// answer it with an empty line to get the completion.
			untagged = append(untagged, l)
			if err := c.tp.PrintfLine(""); err != nil {
				return untagged, err
			}
		default:
			untagged = append(untagged, l)
		}
	}
}

// authenticate runs AUTHENTICATE with an initial response (SASL-IR).
func (c *imapConn) authenticate(mech string, ir []byte) ([]string, error) {
	resp := "="
	if len(ir) > 0 {
		resp = base64.StdEncoding.EncodeToString(ir)
	}
	return c.cmd("AUTHENTICATE " + mech + " " + resp)
}

// exists selects INBOX and returns its EXISTS count.
func (c *imapConn) exists() (int, error) {
	lines, err := c.cmd("SELECT INBOX")
	if err != nil {
		return 0, err
	}
	for _, l := range lines {
		var n int
		if _, err := fmt.Sscanf(l, "* %d EXISTS", &n); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("no EXISTS in %q", lines)
}
