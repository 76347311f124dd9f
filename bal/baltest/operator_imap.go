// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"crypto/tls"
	"fmt"
	"math"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

func (op *Operator) newIMAPServer() *imapserver.Server {
	return imapserver.New(&imapserver.Options{
		NewSession: func(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{op: op, conn: c}, nil, nil
		},
		Caps: imap.CapSet{
			imap.CapIMAP4rev1:  {},
			imap.CapIMAP4rev2:  {},
			imap.CapNamespace:  {},
			imap.CapUIDPlus:    {},
			imap.CapMove:       {},
			imap.CapListStatus: {},
			imap.CapStatusSize: {},
		},
		TLSConfig: op.tlsConfig,
		Logger:    opLogger{op},
	})
}

// imapSession is one IMAP connection. Once authenticated, the in-memory
// backend's session of the user does the work.
type imapSession struct {
	*imapmemserver.UserSession // nil until authenticated

	op   *Operator
	conn *imapserver.Conn
}

var (
	_ imapserver.SessionSASL        = (*imapSession)(nil)
	_ imapserver.SessionIMAP4rev2   = (*imapSession)(nil)
	_ imapserver.SessionAppendLimit = (*imapSession)(nil)
)

func (s *imapSession) backend() *authBackend {
	return &authBackend{
		op:    s.op,
		proto: "IMAP " + s.conn.NetConn().RemoteAddr().String(),
		tlsState: func() (tls.ConnectionState, bool) {
			tc, ok := s.conn.NetConn().(*tls.Conn)
			if !ok {
				return tls.ConnectionState{}, false
			}
			return tc.ConnectionState(), true
		},
		wrap: func(err error) error {
			return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed,
				Text: "Authentication failed: " + err.Error()}
		},
		success: func(b *opMailbox) { s.UserSession = imapmemserver.NewUserSession(b.mem) },
	}
}

// Login implements imapserver.Session (the LOGIN command).
func (s *imapSession) Login(username, password string) error {
	a := s.backend()
	box, err := a.password(username, password)
	if err == nil && password == s.op.secret {
		s.UserSession = imapmemserver.NewUserSession(box.mem) // Operator.Messages: not logged
		return nil
	}
	return a.result("LOGIN", box, err)
}

// AuthenticateMechanisms implements imapserver.SessionSASL.
func (s *imapSession) AuthenticateMechanisms() []string { return operatorMechanisms }

// Authenticate implements imapserver.SessionSASL.
func (s *imapSession) Authenticate(mech string) (sasl.Server, error) {
	if srv := s.backend().server(mech); srv != nil {
		return srv, nil
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: fmt.Sprintf("SASL mechanism %s not supported", mech)}
}

// Close implements imapserver.Session.
func (s *imapSession) Close() error {
	if s.UserSession == nil {
		return nil
	}
	return s.UserSession.Close()
}

// AppendLimit implements imapserver.SessionAppendLimit: imapserver
// refuses larger APPENDs with NO [TOOBIG].
func (s *imapSession) AppendLimit() uint32 {
	if s.op.MaxMessageBytes <= 0 || s.op.MaxMessageBytes > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(s.op.MaxMessageBytes)
}

// Idle implements imapserver.Session (the IDLE command). It first sends
// what changed since the session's last command: imapmemserver only writes
// the updates that come during IDLE, so a message delivered between a
// client's last command and its IDLE would not be announced until the next
// change, whereas RFC 9051 §7.4.1 (EXISTS) has the server tell a client of
// a new mailbox size at the first opportunity, and Dovecot does so when
// IDLE starts. (imapserver accepts IDLE only once a mailbox is selected,
// so the session is authenticated.)
func (s *imapSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if err := s.UserSession.Poll(w, true); err != nil {
		return err
	}
	return s.UserSession.Idle(w, stop)
}

// Select implements imapserver.Session, after the delay of SetDelay.
func (s *imapSession) Select(mailbox string, options *imap.SelectOptions) (*imap.SelectData, error) {
	s.op.pause()
	return s.UserSession.Select(mailbox, options)
}

// Fetch implements imapserver.Session, after the delay of SetDelay.
func (s *imapSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	s.op.pause()
	return s.UserSession.Fetch(w, numSet, options)
}

// Search implements imapserver.Session, after the delay of SetDelay.
func (s *imapSession) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	s.op.pause()
	return s.UserSession.Search(kind, criteria, options)
}
