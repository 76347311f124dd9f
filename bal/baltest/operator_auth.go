// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"bytes"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
)

// Names of the SASL mechanisms of the operator, in the order they are
// announced.
var operatorMechanisms = []string{sasl.External, "XOAUTH2", sasl.OAuthBearer, sasl.Plain}

// verifyClient refuses, at the end of the TLS handshake, a client
// certificate that is in a CRL of the PKI (crypto/tls has already checked
// the chain and the validity dates).
func (op *Operator) verifyClient(cs tls.ConnectionState) error {
	for _, chain := range cs.VerifiedChains {
		for _, c := range chain {
			if op.PKI.IsRevoked(c) || op.revokedAtRunTime(c) {
				op.logf("TLS: client certificate %q refused: revoked (serial %x)", c.Subject.String(), c.SerialNumber)
				return fmt.Errorf("baltest: client certificate %q is revoked", c.Subject.String())
			}
		}
	}
	return nil
}

// authError is a refused authentication; its text is sent to the client.
type authError struct{ msg string }

func (e *authError) Error() string { return e.msg }

func refuse(format string, args ...any) error {
	return &authError{msg: fmt.Sprintf(format, args...)}
}

// authBackend checks credentials for one connection. proto names the
// protocol in the log; tlsState returns the connection's TLS state;
// wrap turns a refusal into the protocol's error; success is told the
// authenticated mailbox.
type authBackend struct {
	op       *Operator
	proto    string
	tlsState func() (tls.ConnectionState, bool)
	wrap     func(error) error
	success  func(*opMailbox)
}

// server returns the SASL server of mech, or nil if the operator has no
// such mechanism.
func (a *authBackend) server(mech string) sasl.Server {
	switch strings.ToUpper(mech) {
	case sasl.External:
		return sasl.NewExternalServer(func(identity string) error {
			box, err := a.external(identity)
			return a.result(sasl.External, box, err)
		})
	case "XOAUTH2":
		return &bearerServer{auth: a, xoauth2: true}
	case sasl.OAuthBearer:
		return &bearerServer{auth: a}
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && !strings.EqualFold(identity, username) {
				return a.result(sasl.Plain, nil, refuse("authorization identity %q differs from user %q", identity, username))
			}
			box, err := a.password(username, password)
			return a.result(sasl.Plain, box, err)
		})
	}
	return nil
}

// result logs the outcome of an authentication and, on success, tells
// the session.
func (a *authBackend) result(mech string, box *opMailbox, err error) error {
	if err != nil {
		a.op.logf("%s: %s authentication refused: %v", a.proto, mech, err)
		return a.wrap(err)
	}
	a.op.logf("%s: %s authentication of %s", a.proto, mech, box.user.Address)
	a.success(box)
	return nil
}

// external maps the client certificate to a mailbox.
func (a *authBackend) external(identity string) (*opMailbox, error) {
	cs, ok := a.tlsState()
	if !ok || len(cs.PeerCertificates) == 0 {
		return nil, refuse("EXTERNAL needs a client certificate")
	}
	if len(cs.VerifiedChains) == 0 { // cannot happen with VerifyClientCertIfGiven
		return nil, refuse("the client certificate was not verified")
	}
	leaf := cs.PeerCertificates[0]
	if err := a.op.verifyClient(cs); err != nil {
		return nil, refuse("%v", err)
	}
	cn := leaf.Subject.CommonName
	var box *opMailbox
	for _, u := range a.op.Users {
		for _, name := range u.CertNames {
			if strings.EqualFold(name, cn) {
				box = a.op.mailbox(u.Address)
				break
			}
		}
		if box != nil {
			break
		}
	}
	if box == nil {
		return nil, refuse("no mailbox for the certificate CN=%s", cn)
	}
	if identity != "" && !strings.EqualFold(identity, box.user.Address) {
		return nil, refuse("the certificate CN=%s logs in as %s, not %s", cn, box.user.Address, identity)
	}
	return box, nil
}

// password checks a user name and password. The operator's own secret
// opens any mailbox (it is how Operator.Messages reads folders).
func (a *authBackend) password(username, password string) (*opMailbox, error) {
	box := a.op.mailbox(username)
	if box == nil {
		return nil, refuse("unknown user %q", username)
	}
	if subtle.ConstantTimeCompare([]byte(password), []byte(a.op.secret)) == 1 {
		return box, nil
	}
	if box.user.Password == "" || subtle.ConstantTimeCompare([]byte(password), []byte(box.user.Password)) != 1 {
		return nil, refuse("wrong password for %s", box.user.Address)
	}
	return box, nil
}

// token checks a bearer token; user, when not empty, must be the
// token's mailbox.
func (a *authBackend) token(user, token string) (*opMailbox, error) {
	a.op.mu.Lock()
	addr, ok := a.op.tokens[token]
	a.op.mu.Unlock()
	if !ok {
		if a.op.tokenExpired(token) {
			return nil, refuse("the bearer token has expired")
		}
		return nil, refuse("unknown bearer token")
	}
	if user != "" && !strings.EqualFold(user, addr) {
		return nil, refuse("the bearer token is not valid for %s", user)
	}
	box := a.op.mailbox(addr)
	if box == nil {
		return nil, refuse("no mailbox %s", addr)
	}
	return box, nil
}

// bearerServer is the server side of XOAUTH2 (Google's format,
// "user=<u>^Aauth=Bearer <token>^A^A") and OAUTHBEARER (RFC 7628,
// "n,a=<u>,^Aauth=Bearer <token>^A^A"). A refused token is answered with
// a JSON error challenge; whatever the client responds, the exchange then
// fails.
type bearerServer struct {
	auth    *authBackend
	xoauth2 bool
	refused error
	done    bool
}

func (s *bearerServer) mech() string {
	if s.xoauth2 {
		return "XOAUTH2"
	}
	return sasl.OAuthBearer
}

// Next implements sasl.Server.
func (s *bearerServer) Next(response []byte) ([]byte, bool, error) {
	switch {
	case s.refused != nil:
		return nil, true, s.auth.wrap(s.refused)
	case s.done:
		return nil, true, sasl.ErrUnexpectedClientResponse
	case response == nil:
		return []byte{}, false, nil // ask for the initial response
	}
	s.done = true
	var user, token string
	var err error
	if s.xoauth2 {
		user, token, err = parseXOAuth2(response)
	} else {
		user, token, err = parseOAuthBearer(response)
	}
	var box *opMailbox
	if err == nil {
		box, err = s.auth.token(user, token)
	}
	if err == nil {
		return nil, true, s.auth.result(s.mech(), box, nil)
	}
	s.auth.op.logf("%s: %s authentication refused: %v", s.auth.proto, s.mech(), err)
	s.refused = err
	status := "invalid_token"
	if s.xoauth2 {
		status = "401"
	}
	challenge, _ := json.Marshal(struct {
		Status  string `json:"status"`
		Schemes string `json:"schemes"`
		Scope   string `json:"scope"`
	}{status, "bearer", "mail"})
	return challenge, false, nil
}

// parseXOAuth2 reads "user=<u>^Aauth=Bearer <token>^A^A".
func parseXOAuth2(b []byte) (user, token string, err error) {
	for _, kv := range bytes.Split(b, []byte{1}) {
		k, v, ok := strings.Cut(string(kv), "=")
		switch {
		case len(kv) == 0:
		case !ok:
			return "", "", refuse("malformed XOAUTH2 response")
		case k == "user":
			user = v
		case k == "auth":
			token, err = bearerToken(v)
			if err != nil {
				return "", "", err
			}
		}
	}
	if user == "" || token == "" {
		return "", "", refuse("XOAUTH2 response without user or token")
	}
	return user, token, nil
}

// parseOAuthBearer reads the GS2 header "n,a=<u>," (authzid optional)
// then "^Akey=value" pairs, of which auth is required.
func parseOAuthBearer(b []byte) (user, token string, err error) {
	parts := strings.SplitN(string(b), ",", 3)
	if len(parts) != 3 || parts[0] != "n" {
		return "", "", refuse("malformed OAUTHBEARER GS2 header")
	}
	if parts[1] != "" {
		var ok bool
		if user, ok = strings.CutPrefix(parts[1], "a="); !ok {
			return "", "", refuse("malformed OAUTHBEARER authorization identity")
		}
		user = strings.NewReplacer("=2C", ",", "=3D", "=").Replace(user)
	}
	for _, kv := range strings.Split(parts[2], "\x01") {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case kv == "":
		case !ok:
			return "", "", refuse("malformed OAUTHBEARER response")
		case k == "auth":
			if token, err = bearerToken(v); err != nil {
				return "", "", err
			}
		}
	}
	if token == "" {
		return "", "", refuse("OAUTHBEARER response without token")
	}
	return user, token, nil
}

func bearerToken(v string) (string, error) {
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", refuse("authorization is not a bearer token")
	}
	return tok, nil
}
