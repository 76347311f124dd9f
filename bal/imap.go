// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// Receiver opens IMAP sessions on a BAL (RFC 9051 / 3501 through
// go-imap v2), every action traced. Server, Trust, Auth and Trace are
// required; the zero value of the others is a working default.
type Receiver struct {
	// Server is the operator's IMAP endpoint: port 143 with STARTTLS, or
	// 993 with ImplicitTLS (Discover finds it).
	Server Endpoint
	// ServerName is the name checked against the operator's certificate
	// (Server.Host when empty).
	ServerName string
	// Trust decides which operator certificates are accepted (IGC-Santé
	// roots, revocation).
	Trust *Trust
	// Auth is how the BAL authenticates: *Certificate, *CPS or *PSC.
	Auth Authenticator
	// Mailbox is the BAL read, recorded in every trace event.
	Mailbox trace.Mailbox
	// Trace receives every action, before it is attempted and with its
	// outcome; with the default policy (trace.FailClosed) an action whose
	// trace cannot be written does not happen.
	Trace trace.Recorder
	// TracePolicy is what a failure to record means (trace.FailClosed
	// when zero).
	TracePolicy trace.Policy
	// Software names the product and version in trace events.
	Software string
	// MaxFetch and MaxFetchBytes bound one FetchNew: at most MaxFetch
	// messages (50 when zero) and, by their RFC822.SIZE, at most
	// MaxFetchBytes (256 MiB when zero; at least one message), so that a
	// backlog is read in batches (Session.HasMore), not all in memory.
	MaxFetch      int
	MaxFetchBytes int64
	// Timeout bounds the connection, from the TCP connect to the end of
	// the authentication, and the logout (30 s when zero). Each operation
	// is bounded by its ctx: go-imap does not watch it, the session's
	// connection is closed when ctx ends.
	Timeout time.Duration
}

// Session is an authenticated IMAP session.
type Session struct {
	r       *Receiver
	c       *imapclient.Client
	raw     net.Conn // the TCP connection, closed when an operation's ctx ends
	more    bool     // the last FetchNew left new messages
	guard   *trace.Guard
	corr    string
	newMail chan struct{}
}

// IMAPError is a refusal by the IMAP server (NO or BAD).
type IMAPError struct {
	Command string
	Err     error
}

func (e *IMAPError) Error() string { return fmt.Sprintf("bal: IMAP %s: %v", e.Command, e.Err) }
func (e *IMAPError) Unwrap() error { return e.Err }

func (r *Receiver) event(action trace.Action, corr string, req trace.Request, resp trace.Response, msgID string) trace.Event {
	req.Server = r.Server.addr()
	return safeEvent(trace.Event{Time: time.Now(), Actor: r.Auth.Actor(), Mailbox: r.Mailbox, Action: action,
		Request: req, Response: resp, MessageID: msgID, Correlation: corr, Software: r.Software})
}

// Open connects (STARTTLS or implicit TLS), authenticates and returns the
// session. The login is traced before and after (fail closed); when ctx
// has already ended, nothing is attempted and the login is traced as
// failed. Session operations follow the same rule.
func (r *Receiver) Open(ctx context.Context) (*Session, error) {
	cfg, err := clientTLS(ctx, "Receiver", r.Trust, r.Auth, r.Server, r.ServerName)
	if err != nil {
		return nil, err
	}
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	s := &Session{r: r, guard: &trace.Guard{Recorder: r.Trace, Policy: r.TracePolicy}, corr: trace.NewID(), newMail: make(chan struct{}, 1)}
	req := trace.Request{Command: "CONNECT", Params: []string{map[bool]string{true: "TLS", false: "STARTTLS"}[r.Server.ImplicitTLS]}}
	if err := begin(ctx, s.guard, r.event(trace.Login, s.corr, req, trace.Response{Text: trace.PendingText}, ""), "IMAP connection to "+r.Server.addr()); err != nil {
		return nil, err
	}
	opts := &imapclient.Options{
		TLSConfig: cfg,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case s.newMail <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	var raw net.Conn
	var c *imapclient.Client
	// fail closes what was opened and traces the failure, even once ctx
	// has ended.
	fail := func(err error) (*Session, error) {
		if c != nil {
			c.Close()
		}
		if raw != nil {
			raw.Close()
		}
		s.guard.Record(context.WithoutCancel(ctx), r.event(trace.Login, s.corr, req, failure(err), ""))
		return nil, err
	}
	raw, err = (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", r.Server.addr())
	if err != nil {
		return fail(fmt.Errorf("bal: IMAP connection to %s: %w", r.Server.addr(), err))
	}
	// The greeting, STARTTLS and the authentication are bounded by timeout
	// and ctx: the connection is closed when either ends first.
	w := watchConn(ctx, raw, timeout)
	defer w.done()
	if r.Server.ImplicitTLS {
		tc := cfg.Clone()
		if tc.NextProtos == nil {
			tc.NextProtos = []string{"imap"}
		}
		conn := tls.Client(raw, tc)
		// The handshake first, so that a refused certificate is the error
		// itself (ErrRevoked…), not a read error of the greeting.
		if err = conn.HandshakeContext(ctx); err == nil {
			c = imapclient.New(conn, opts)
		}
	} else {
		c, err = imapclient.NewStartTLS(raw, opts)
	}
	if err == nil {
		err = c.WaitGreeting()
	}
	if err != nil {
		return fail(fmt.Errorf("bal: IMAP connection to %s: %w", r.Server.addr(), w.explain(err)))
	}
	s.c, s.raw = c, raw
	var mechs []string
	for cp := range c.Caps() {
		if m, ok := strings.CutPrefix(string(cp), "AUTH="); ok {
			mechs = append(mechs, m)
		}
	}
	sc, err := r.Auth.SASL(ctx, mechs)
	if err == nil && sc != nil {
		sc = forIMAP(sc)
		mech, _, _ := sc.Start()
		req = trace.Request{Command: "AUTHENTICATE", Params: []string{mech}}
		if aerr := c.Authenticate(sc); aerr != nil {
			if rf := refused(sc, &IMAPError{"AUTHENTICATE", aerr}); rf != nil {
				err = rf
			} else {
				err = fmt.Errorf("%w: %w", ErrAuth, aerr)
			}
		}
	} else if err == nil {
		err = fmt.Errorf("%w: the IMAP server needs a SASL mechanism this authenticator lacks (%s)", ErrAuth, strings.Join(mechs, " "))
	}
	if err != nil {
		return fail(w.explain(err))
	}
	if !w.done() {
		return fail(fmt.Errorf("bal: IMAP connection to %s: %w", r.Server.addr(), w.expiredErr()))
	}
	if err := s.guard.Record(ctx, r.event(trace.Login, s.corr, req, trace.Response{OK: true, Text: "authenticated"}, "")); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// traced records an action before and after it runs.
func (s *Session) traced(ctx context.Context, action trace.Action, req trace.Request, msgID string, run func() (string, error)) error {
	if err := begin(ctx, s.guard, s.r.event(action, s.corr, req, trace.Response{Text: trace.PendingText}, msgID), "IMAP "+req.Command); err != nil {
		return err
	}
	// go-imap does not watch ctx: the connection is closed when it ends.
	stop := context.AfterFunc(ctx, func() { s.raw.Close() })
	text, err := run()
	stop()
	err = withCtx(ctx, err)
	resp := trace.Response{OK: err == nil, Code: "OK", Text: oneLine(text)}
	if err != nil {
		resp = failure(err)
		resp.Code = "NO"
	}
	if rerr := s.guard.Record(context.WithoutCancel(ctx), s.r.event(action, s.corr, req, resp, msgID)); rerr != nil && err == nil {
		return rerr
	}
	return err
}

// Folders lists the mailbox's folders.
func (s *Session) Folders(ctx context.Context) ([]string, error) {
	var out []string
	err := s.traced(ctx, trace.Fetch, trace.Request{Command: "LIST", Params: []string{`""`, "*"}}, "", func() (string, error) {
		list, err := s.c.List("", "*", nil).Collect()
		if err != nil {
			return "", &IMAPError{"LIST", err}
		}
		for _, l := range list {
			out = append(out, l.Mailbox)
		}
		return fmt.Sprintf("%d folders", len(out)), nil
	})
	return out, err
}

// State is where a reader stopped in a folder: its UIDVALIDITY and the
// last UID seen. Keep it between runs.
type State struct {
	UIDValidity uint32
	LastUID     imap.UID
}

// Fetched is a message read from the server.
type Fetched struct {
	UID     imap.UID
	Raw     []byte
	Message *mssante.Received
	// ParseErr is set when the message could not be parsed; Raw is kept.
	ParseErr error
}

// ErrUIDValidity is reported (wrapped, with the new state) when a folder's
// UIDVALIDITY changed: UIDs were renumbered, so the folder is read again
// from the start; the caller must deduplicate by Message-ID.
var ErrUIDValidity = errors.New("bal: UIDVALIDITY changed: folder read again from the start")

// FetchNew selects folder and fetches, without marking them seen, the
// messages whose UID is above st.LastUID (all of them when UIDVALIDITY
// changed), in UID order, parsed with package mssante: at most
// Receiver.MaxFetch of them and Receiver.MaxFetchBytes (HasMore then
// reports that others wait). It returns the new state.
func (s *Session) FetchNew(ctx context.Context, folder string, st State) ([]*Fetched, State, error) {
	s.more = false
	var sel *imap.SelectData
	err := s.traced(ctx, trace.Fetch, trace.Request{Command: "SELECT", Params: []string{folder}}, "", func() (string, error) {
		var err error
		sel, err = s.c.Select(folder, nil).Wait()
		if err != nil {
			return "", &IMAPError{"SELECT", err}
		}
		return fmt.Sprintf("%d messages, UIDVALIDITY %d, UIDNEXT %d", sel.NumMessages, sel.UIDValidity, sel.UIDNext), nil
	})
	if err != nil {
		return nil, st, err
	}
	var changed error
	if st.UIDValidity != 0 && st.UIDValidity != sel.UIDValidity {
		changed = fmt.Errorf("%w (%d → %d)", ErrUIDValidity, st.UIDValidity, sel.UIDValidity)
		st.LastUID = 0
	}
	st.UIDValidity = sel.UIDValidity
	if sel.NumMessages == 0 || (sel.UIDNext != 0 && sel.UIDNext <= st.LastUID+1) {
		return nil, st, changed
	}
	var all imap.UIDSet
	all.AddRange(st.LastUID+1, 0)
	// First the UIDs and sizes, then the bodies of a batch within the
	// limits.
	type pending struct {
		uid  imap.UID
		size int64
	}
	var news []pending
	err = s.traced(ctx, trace.Fetch, trace.Request{Command: "UID FETCH", Params: []string{all.String(), "RFC822.SIZE"}}, "", func() (string, error) {
		msgs, err := s.c.Fetch(all, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
		if err != nil {
			return "", &IMAPError{"FETCH", err}
		}
		for _, m := range msgs {
			if m.UID > st.LastUID { // "n:*" returns the last message even below n
				news = append(news, pending{m.UID, m.RFC822Size})
			}
		}
		return fmt.Sprintf("%d new messages", len(news)), nil
	})
	if err != nil {
		return nil, st, err
	}
	if len(news) == 0 {
		return nil, st, changed
	}
	slices.SortFunc(news, func(a, b pending) int { return cmp.Compare(a.uid, b.uid) })
	maxN, maxBytes := s.r.MaxFetch, s.r.MaxFetchBytes
	if maxN <= 0 {
		maxN = 50
	}
	if maxBytes <= 0 {
		maxBytes = 256 << 20
	}
	var set imap.UIDSet
	var total int64
	for i, p := range news {
		if i > 0 && (i >= maxN || total+p.size > maxBytes) {
			s.more = true
			break
		}
		set.AddNum(p.uid)
		total += p.size
	}
	section := &imap.FetchItemBodySection{Peek: true}
	var out []*Fetched
	err = s.traced(ctx, trace.Fetch, trace.Request{Command: "UID FETCH", Params: []string{set.String(), "BODY.PEEK[]"}}, "", func() (string, error) {
		msgs, err := s.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return "", &IMAPError{"FETCH", err}
		}
		for _, m := range msgs {
			if !set.Contains(m.UID) {
				continue
			}
			raw := m.FindBodySection(section)
			f := &Fetched{UID: m.UID, Raw: raw}
			// Parsed where it lies: Message.Raw is raw, not a copy.
			f.Message, f.ParseErr = mssante.ParseBytes(raw, nil)
			out = append(out, f)
		}
		slices.SortFunc(out, func(a, b *Fetched) int { return cmp.Compare(a.UID, b.UID) })
		return fmt.Sprintf("%d messages", len(out)), nil
	})
	if err != nil {
		return nil, st, err
	}
	for _, f := range out {
		id := ""
		if f.Message != nil {
			id = f.Message.MessageID
		}
		if err := s.guard.Record(ctx, s.r.event(trace.Read, s.corr, trace.Request{Command: "UID FETCH", Params: []string{strconv.FormatUint(uint64(f.UID), 10)}},
			trace.Response{OK: f.ParseErr == nil, Text: fmt.Sprintf("%d bytes", len(f.Raw))}, id)); err != nil {
			return nil, st, err // fail closed: no message handed over without its trace
		}
	}
	if len(out) > 0 {
		st.LastUID = out[len(out)-1].UID // out is in UID order
	}
	return out, st, changed
}

// HasMore reports whether the last FetchNew left new messages for the next
// call (Receiver.MaxFetch, MaxFetchBytes).
func (s *Session) HasMore() bool { return s.more }

// MarkSeen sets \Seen on a message of the selected folder.
func (s *Session) MarkSeen(ctx context.Context, uid imap.UID, msgID string) error {
	return s.traced(ctx, trace.MarkSeen, trace.Request{Command: "UID STORE", Params: []string{uidStr(uid), "+FLAGS", `\Seen`}}, msgID, func() (string, error) {
		if err := s.c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
			return "", &IMAPError{"STORE", err}
		}
		return "seen", nil
	})
}

// Move moves a message of the selected folder to dest, creating dest when
// it is missing. The message is never expunged unless it is known to be
// in dest:
//
//   - when the server has MOVE (RFC 6851, or IMAP4rev2), UID MOVE; if it is
//     refused, CREATE dest (an "already exists" refusal is ignored) and UID
//     MOVE once more;
//   - otherwise UID COPY, waiting for its result (refused: CREATE dest, then
//     UID COPY once more); only once the copy succeeded, UID STORE
//     +FLAGS.SILENT (\Deleted) and, when the server has UIDPLUS (RFC 4315),
//     UID EXPUNGE of that UID alone. Without UIDPLUS no EXPUNGE is sent (it
//     would also remove the messages someone else flagged \Deleted): the
//     message is left in the selected folder flagged \Deleted, as the
//     trace says, until the folder is expunged.
//
// The traced action is OK only when the message is in dest. When the copy
// succeeded but the STORE or UID EXPUNGE failed, Move returns an error and
// the message is in both folders.
func (s *Session) Move(ctx context.Context, uid imap.UID, dest, msgID string) error {
	caps := s.c.Caps()
	if caps.Has(imap.CapMove) {
		return s.traced(ctx, trace.Move, trace.Request{Command: "UID MOVE", Params: []string{uidStr(uid), dest}}, msgID, func() (string, error) {
			created, err := s.retryCreating(dest, "MOVE", func() error {
				_, err := s.c.Move(imap.UIDSetNum(uid), dest).Wait()
				return err
			})
			if err != nil {
				return "", err
			}
			return created + "moved to " + dest, nil
		})
	}
	uidPlus := caps.Has(imap.CapUIDPlus)
	params := []string{uidStr(uid), dest, `+FLAGS.SILENT (\Deleted)`}
	if uidPlus {
		params = append(params, "UID EXPUNGE")
	}
	return s.traced(ctx, trace.Move, trace.Request{Command: "UID COPY", Params: params}, msgID, func() (string, error) {
		var data *imap.CopyData
		created, err := s.retryCreating(dest, "COPY", func() error {
			var err error
			data, err = s.c.Copy(imap.UIDSetNum(uid), dest).Wait()
			return err
		})
		if err != nil {
			return "", err
		}
		text := created + "copied to " + dest
		if data != nil && data.DestUIDs != nil {
			text += " (UID " + data.DestUIDs.String() + ")"
		}
		if err := s.flagDeleted(uid); err != nil {
			return "", &IMAPError{"STORE", fmt.Errorf("%s but not flagged \\Deleted, so it is in both folders: %w", text, err)}
		}
		if !uidPlus {
			return text + `; left flagged \Deleted in the source folder, not expunged (the server lacks MOVE and UIDPLUS, and a plain EXPUNGE would also remove messages flagged \Deleted by others)`, nil
		}
		if err := s.c.UIDExpunge(imap.UIDSetNum(uid)).Close(); err != nil {
			return "", &IMAPError{"EXPUNGE", fmt.Errorf("%s and flagged \\Deleted but not expunged, so it is in both folders: %w", text, err)}
		}
		return text + ", expunged from the source folder", nil
	})
}

// retryCreating runs op (a MOVE or COPY to dest); when the server refuses
// it, it creates dest (ignoring an "already exists" refusal) and runs op
// once more. It returns a note for the trace when dest was created.
func (s *Session) retryCreating(dest, command string, op func() error) (string, error) {
	err := op()
	var refused *imap.Error
	if err == nil || !errors.As(err, &refused) {
		if err != nil {
			return "", &IMAPError{command, err}
		}
		return "", nil
	}
	note := "CREATE " + dest + " after " + command + " refused (" + refused.Text + "); "
	if cerr := s.c.Create(dest, nil).Wait(); cerr != nil {
		var cr *imap.Error
		if !errors.As(cerr, &cr) || !alreadyExists(cr) {
			return "", &IMAPError{command, fmt.Errorf("%w; CREATE %s: %w", err, dest, cerr)}
		}
		note = command + " retried after CREATE " + dest + " refused as existing; "
	}
	if err := op(); err != nil {
		return "", &IMAPError{command, fmt.Errorf("%s%s refused again: %w", note, command, err)}
	}
	return note, nil
}

// alreadyExists reports whether a CREATE was refused because the folder
// exists (RFC 5530 ALREADYEXISTS, or servers that only say so in words).
func alreadyExists(e *imap.Error) bool {
	return e.Code == imap.ResponseCodeAlreadyExists || strings.Contains(strings.ToLower(e.Text), "exists")
}

// Delete flags a message \Deleted and expunges it. A server without
// UIDPLUS (RFC 4315) cannot expunge one message alone, and a plain EXPUNGE
// would also remove the messages others flagged \Deleted: the message is
// then left flagged \Deleted (the trace says so), for the server or
// another client to expunge.
func (s *Session) Delete(ctx context.Context, uid imap.UID, msgID string) error {
	return s.traced(ctx, trace.Delete, trace.Request{Command: "UID EXPUNGE", Params: []string{uidStr(uid)}}, msgID, func() (string, error) {
		if err := s.flagDeleted(uid); err != nil {
			return "", &IMAPError{"STORE", err}
		}
		if !s.c.Caps().Has(imap.CapUIDPlus) {
			return `flagged \Deleted, not expunged: the server has no UIDPLUS`, nil
		}
		if err := s.c.UIDExpunge(imap.UIDSetNum(uid)).Close(); err != nil {
			return "", &IMAPError{"EXPUNGE", err}
		}
		return "deleted", nil
	})
}

// flagDeleted sets \Deleted on a message of the selected folder.
func (s *Session) flagDeleted(uid imap.UID) error {
	return s.c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
}

// Append stores a raw message in folder (e.g. "Sent"), seen.
func (s *Session) Append(ctx context.Context, folder string, raw []byte, msgID string) error {
	return s.traced(ctx, trace.Append, trace.Request{Command: "APPEND", Params: []string{folder, strconv.Itoa(len(raw)) + " bytes"}}, msgID, func() (string, error) {
		cmd := s.c.Append(folder, int64(len(raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}})
		if _, err := cmd.Write(raw); err != nil {
			return "", &IMAPError{"APPEND", err}
		}
		if err := cmd.Close(); err != nil {
			return "", &IMAPError{"APPEND", err}
		}
		if _, err := cmd.Wait(); err != nil {
			return "", &IMAPError{"APPEND", err}
		}
		return "appended", nil
	})
}

// WaitNew waits in IDLE until the selected folder announces new messages,
// ctx ends or the connection breaks (the error says which). IDLE is
// restarted by go-imap before the 29-minute limit.
func (s *Session) WaitNew(ctx context.Context) error {
	idle, err := s.c.Idle()
	if err != nil {
		return &IMAPError{"IDLE", err}
	}
	select {
	case <-s.newMail:
	case <-ctx.Done():
		// Ending IDLE needs the server's answer: not forever.
		t := time.AfterFunc(s.timeout(), func() { s.raw.Close() })
		defer t.Stop()
	case <-s.c.Closed():
		return &IMAPError{"IDLE", errors.New("connection closed")}
	}
	if err := idle.Close(); err != nil {
		return &IMAPError{"IDLE", err}
	}
	if err := idle.Wait(); err != nil {
		return &IMAPError{"IDLE", err}
	}
	return ctx.Err()
}

func (s *Session) timeout() time.Duration {
	if s.r.Timeout == 0 {
		return 30 * time.Second
	}
	return s.r.Timeout
}

// Close logs out (bounded by Receiver.Timeout) and closes the connection.
func (s *Session) Close() error {
	timer := time.AfterFunc(s.timeout(), func() { s.raw.Close() })
	err := s.c.Logout().Wait()
	timer.Stop()
	s.c.Close()
	s.guard.Record(context.Background(), s.r.event(trace.Logout, s.corr, trace.Request{Command: "LOGOUT"}, trace.Response{OK: err == nil}, ""))
	return err
}

func uidStr(uid imap.UID) string { return strconv.FormatUint(uint64(uid), 10) }
