// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"errors"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/trace"
)

// scriptConn is a connection whose peer has written script in advance:
// reads return it, then io.EOF; writes are taken and dropped.
type scriptConn struct{ r *strings.Reader }

func (c scriptConn) Read(p []byte) (int, error)     { return c.r.Read(p) }
func (scriptConn) Write(p []byte) (int, error)      { return len(p), nil }
func (scriptConn) Close() error                     { return nil }
func (scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (scriptConn) SetDeadline(time.Time) error      { return nil }
func (scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (scriptConn) SetWriteDeadline(time.Time) error { return nil }

// scriptedSMTP runs go-smtp's client against a server that answers with
// script: the greeting, then a reply to each command in turn, then the
// end of the connection (so that an unfinished reply ends). It returns
// the AUTH mechanisms of a successful EHLO and the error of c.Hello, or
// of c.Mail when mail is set.
func scriptedSMTP(script []string, mail bool) (mechs string, err error) {
	c := smtp.NewClient(scriptConn{strings.NewReader(strings.Join(script, ""))})
	defer c.Close()
	if err = c.Hello("client.test"); err != nil {
		return "", err
	}
	_, mechs = c.Extension("AUTH")
	if mail {
		err = c.Mail("a@b.mssante.fr", nil)
	}
	return mechs, err
}

// rfc3463 is an enhanced status code (RFC 3463 §2).
var rfc3463 = regexp.MustCompile(`^[245]\.[0-9]{1,3}\.[0-9]{1,3}$`)

// FuzzSMTPReply: the parsing of server replies is go-smtp's (net/textproto
// for the lines, its own for the enhanced code); ours is what is made of
// them: the *SMTPError (smtpErr), whether it is temporary, whether it is a
// refusal of the client certificate, its trace response (failure), and the
// AUTH mechanisms offered (Certificate.SASL). A reply, fuzzed as the
// greeting, the answer to EHLO or the answer to MAIL, gives an SMTPError
// with a code of three digits, an enhanced code of RFC 3463 or none,
// Temporary for 4xx only, a certificate refusal for class X.7, an error
// text that names the command and the code, and a trace event that
// trace.Event.Normalize accepts; or no reply (a failure of the
// connection); or, after EHLO, the mechanisms the reply lists.
func FuzzSMTPReply(f *testing.F) {
	for _, s := range []string{
		"421 4.7.1 mx.operateur.fr Error: No client certificate presented\r\n",
		"421 4.7.1 Client certificate not trusted\r\n",
		"550 5.1.1 <inconnu@chu.mssante.fr>: Recipient address rejected: User unknown in virtual mailbox table\r\n",
		"552 5.3.4 Message size exceeds fixed limit\r\n",
		"451 4.3.0 Error: queue file write error\r\n",
		"250-mx.operateur.fr\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN EXTERNAL\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n",
		"250-mx\r\n250 AUTH=external xoauth2 OAUTHBEARER\r\n",
		"554-5.7.1 first line\r\n554-5.7.1 second line\r\n554 5.7.1 last\r\n",
		"550 9.1.1 not a class\r\n", "550 5.-1.0 negative\r\n", "550 5.1234.1 long\r\n", "550 +5.1.1 sign\r\n", "550 0.0.0 zero\r\n",
		"550 5.1.1\r\n", "550\r\n", "5\r\n", "abc\r\n", "220 ok\r\n", "999 9.9.9 odd\r\n", "100 1.1.1\r\n",
		"550-continued\r\n", "550 \xff\xfe invalid UTF-8 \x00\x1b[31m\r\n", "550 " + strings.Repeat("x", 1000) + "\r\n",
	} {
		for stage := range byte(3) {
			f.Add(stage, s)
		}
	}
	const greeting, ehlo = "220 mx.operateur.fr ESMTP\r\n", "250-mx.operateur.fr\r\n250 AUTH EXTERNAL\r\n"
	f.Fuzz(func(t *testing.T, stage byte, reply string) {
		cmd := "EHLO"
		var err error
		var mechs string
		switch stage % 3 {
		case 0:
			mechs, err = scriptedSMTP([]string{reply}, false)
		case 1:
			mechs, err = scriptedSMTP([]string{greeting, reply, reply}, false) // EHLO, then HELO after a 500 or 502
		case 2:
			cmd = "MAIL"
			mechs, err = scriptedSMTP([]string{greeting, ehlo, reply}, true)
		}
		if err == nil {
			// What our Certificate answers to the mechanisms offered.
			c := &Certificate{}
			sc, serr := c.SASL(t.Context(), strings.Fields(mechs))
			require.NoError(t, serr)
			offered := false
			for _, m := range strings.Fields(mechs) {
				offered = offered || strings.EqualFold(m, "EXTERNAL")
			}
			assert.Equal(t, offered, sc != nil, "mechanisms %q", mechs)
			return
		}
		var ge *smtp.SMTPError
		if !errors.As(err, &ge) {
			return // no reply: the connection's failure, not ours to read
		}
		r := smtpErr(cmd, err).(*SMTPError)
		require.True(t, r.Code >= 100 && r.Code <= 999, "code %d", r.Code)
		if r.Enhanced != "" {
			require.Regexp(t, rfc3463, r.Enhanced, "reply %q", reply)
		}
		require.Equal(t, r.Code >= 400 && r.Code < 500, r.Temporary(), "code %d", r.Code)
		if strings.HasPrefix(r.Enhanced[min(1, len(r.Enhanced)):], ".7.") {
			require.True(t, certificateRefusal(r), "enhanced %s", r.Enhanced)
		}
		require.True(t, strings.HasPrefix(r.Error(), "bal: SMTP "+cmd+" refused: "+strconv.Itoa(r.Code)), "%q", r.Error())
		require.ErrorIs(t, r, ErrRefused)
		resp := failure(r)
		require.Equal(t, strconv.Itoa(r.Code), resp.Code)
		e := safeEvent(trace.Event{Actor: trace.Actor{ID: "801234567890"}, Action: trace.Send, Request: trace.Request{Command: cmd}, Response: resp})
		require.NoError(t, e.Normalize(), "the trace of reply %q", reply)
	})
}

// TestSMTPErrEnhanced: only an RFC 3463 code becomes Enhanced; what
// go-smtp read as one otherwise ("9.1.1", "5.-1.0", "5.1234.1") stays in
// the message (before the change they were Enhanced as read).
func TestSMTPErrEnhanced(t *testing.T) {
	for reply, want := range map[string][2]string{
		"550 5.1.1 unknown":      {"5.1.1", "unknown"},
		"421 4.7.1 no cert":      {"4.7.1", "no cert"},
		"550 +5.1.1 sign":        {"5.1.1", "sign"}, // go-smtp's reading, kept
		"550 9.1.1 not a class":  {"", "9.1.1 not a class"},
		"550 5.-1.0 negative":    {"", "5.-1.0 negative"},
		"550 5.1234.1 long":      {"", "5.1234.1 long"},
		"550 user unknown":       {"", "user unknown"},
		"550 2.0.0.1 four parts": {"", "2.0.0.1 four parts"},
	} {
		_, err := scriptedSMTP([]string{reply + "\r\n"}, false)
		require.Error(t, err, reply)
		r, ok := smtpErr("EHLO", err).(*SMTPError)
		require.True(t, ok, "%q: %v", reply, err)
		code, _ := strconv.Atoi(reply[:3])
		assert.Equal(t, code, r.Code)
		assert.Equal(t, want[0], r.Enhanced, "%q", reply)
		assert.Equal(t, want[1], r.Message, "%q", reply)
	}
}
