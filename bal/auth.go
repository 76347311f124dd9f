// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/ecdaf744/gomss/trace"
)

// Authenticator is how a client proves who it is to the operator: a TLS
// client certificate (software certificate, CPS card), a SASL exchange
// (Pro Santé Connect tokens), or both. One interface, three
// implementations: Certificate, CPS (cgo) and PSC.
type Authenticator interface {
	// Actor is the authenticated identity recorded in every trace event.
	Actor() trace.Actor
	// ConfigureTLS adds the client certificate, if any, to cfg.
	ConfigureTLS(cfg *tls.Config) error
	// SASL returns the SASL client to run after TLS among the server's
	// mechanisms, or nil when the TLS client certificate is enough.
	SASL(ctx context.Context, mechanisms []string) (sasl.Client, error)
}

// ErrAuth is wrapped by authentication failures.
var ErrAuth = errors.New("bal: authentication failed")

// Certificate authenticates with an IGC-Santé software certificate (ORG
// certificate of an organisational or applicative BAL): presented as TLS
// client certificate, and SASL EXTERNAL when the server offers it.
type Certificate struct {
	Cert  tls.Certificate
	Leaf  *x509.Certificate
	actor trace.Actor
}

// NewCertificateFromPKCS12 decodes a PKCS#12 file (key, certificate and
// chain) as delivered by the IGC-Santé. A certificate outside its validity
// period (checked against time.Now, or the clock given with ValidAt) is
// refused with a *CertificateValidityError wrapping ErrCertificateExpired
// or ErrCertificateNotYetValid: the operator would refuse it at every
// connection (Postfix: "421 4.7.1 Client certificate not trusted"), and
// better at load time than as a refusal a caller could take for a passing
// one. (NewCertificate, for a certificate already loaded, does not check
// the dates.) A file whose private key is not the certificate's is
// refused as well.
func NewCertificateFromPKCS12(pfx []byte, password string, opts ...PKCS12Option) (*Certificate, error) {
	var o pkcs12Options
	for _, opt := range opts {
		opt(&o)
	}
	key, leaf, cas, err := pkcs12.DecodeChain(pfx, password)
	if err != nil {
		return nil, fmt.Errorf("bal: PKCS#12: %w", err)
	}
	// go-pkcs12 returns the first key and the first certificate it finds
	// without checking that they belong together (tls.X509KeyPair does):
	// a file whose key is not the leaf's would fail at every handshake, as
	// a refusal by the server.
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("bal: PKCS#12: a private key of type %T cannot sign", key)
	}
	if pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(leaf.PublicKey) {
		return nil, fmt.Errorf("bal: PKCS#12: the private key does not match the certificate %q", leaf.Subject.CommonName)
	}
	now := time.Now
	if o.now != nil {
		now = o.now
	}
	if err := checkValidity(leaf, now()); err != nil {
		return nil, fmt.Errorf("bal: PKCS#12: %w", err)
	}
	c := tls.Certificate{PrivateKey: key, Leaf: leaf, Certificate: [][]byte{leaf.Raw}}
	for _, ca := range cas {
		c.Certificate = append(c.Certificate, ca.Raw)
	}
	return NewCertificate(c)
}

// NewCertificate uses a certificate already loaded (tls.X509KeyPair…).
func NewCertificate(c tls.Certificate) (*Certificate, error) {
	leaf := c.Leaf
	if leaf == nil {
		if len(c.Certificate) == 0 {
			return nil, errors.New("bal: empty certificate")
		}
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, err
		}
	}
	return &Certificate{Cert: c, Leaf: leaf, actor: ActorFromCertificate(leaf, trace.AuthCertificate)}, nil
}

// Actor is the certificate's holder.
func (c *Certificate) Actor() trace.Actor { return c.actor }

// ConfigureTLS presents the certificate.
func (c *Certificate) ConfigureTLS(cfg *tls.Config) error {
	cfg.Certificates = []tls.Certificate{c.Cert}
	return nil
}

// SASL answers EXTERNAL when the server asks for it.
func (c *Certificate) SASL(_ context.Context, mechs []string) (sasl.Client, error) {
	if hasMech(mechs, sasl.External) {
		return sasl.NewExternalClient(""), nil
	}
	return nil, nil
}

func hasMech(mechs []string, m string) bool {
	return slices.ContainsFunc(mechs, func(x string) bool { return strings.EqualFold(x, m) })
}

// ActorFromCertificate reads the holder of an IGC-Santé certificate: for
// a professional (CPS), the national identifier in the CN (8+RPPS) with
// the surname and given name; for a structure, the CN and organisation.
func ActorFromCertificate(c *x509.Certificate, how trace.AuthMethod) trace.Actor {
	a := trace.Actor{ID: c.Subject.CommonName, IDType: "CN", Auth: how}
	var sn, gn string
	for _, atv := range c.Subject.Names {
		switch atv.Type.String() {
		case "2.5.4.4":
			sn, _ = atv.Value.(string)
		case "2.5.4.42":
			gn, _ = atv.Value.(string)
		}
	}
	if len(a.ID) == 12 && (a.ID[0] == '8' || a.ID[0] == '0') && isDigits(a.ID) {
		a.IDType = "IDNPS"
	}
	switch {
	case sn != "" || gn != "":
		a.Name = strings.TrimSpace(gn + " " + sn)
	case len(c.Subject.Organization) > 0:
		a.Name = c.Subject.Organization[0]
	}
	return a
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// PSC authenticates with Pro Santé Connect: an OAuth2 access token sent
// through SASL XOAUTH2 (preferred, as MSSanté operators use it) or
// OAUTHBEARER (RFC 7628). The token comes from Source (refreshed before
// expiry by oauth2.ReuseTokenSource) and lives only in memory.
//
// Source and Identity.ID are required: a Sender or Receiver using a PSC
// without them fails before connecting (ConfigureTLS), with ErrAuth or
// ErrNoIdentity.
type PSC struct {
	// Source gives the access token; wrap it in oauth2.ReuseTokenSource.
	// Required.
	Source oauth2.TokenSource
	// Username is the mailbox address sent with the token.
	Username string
	// Identity is the professional the token was issued to (IDNPS and
	// name from the PSC userinfo), recorded as the author of every trace
	// event (Auth is set to trace.AuthPSC). Identity.ID is required, the
	// trace needs an author (trace.Event.Normalize); IDType and Name are
	// recommended.
	Identity trace.Actor
	// Host and Port are sent in OAUTHBEARER's GS2 header.
	Host string
	Port int
}

// ErrNoIdentity: an authenticator cannot name who acts (PSC.Identity.ID
// empty), and no action happens without the trace naming its author.
var ErrNoIdentity = errors.New("bal: no identity to record in the traces")

// check reports what the connection would fail on, before any connection.
func (p *PSC) check() error {
	if p.Source == nil {
		return fmt.Errorf("%w: no token source (PSC.Source is nil)", ErrAuth)
	}
	if p.Identity.ID == "" {
		return fmt.Errorf("%w: PSC.Identity.ID is empty: give the professional's identifier (IDNPS, from the Pro Santé Connect userinfo), the author of every trace event", ErrNoIdentity)
	}
	return nil
}

// Actor is the professional: Identity, with Auth set to trace.AuthPSC.
func (p *PSC) Actor() trace.Actor {
	a := p.Identity
	a.Auth = trace.AuthPSC
	return a
}

// ConfigureTLS adds nothing (the token authenticates) but checks, before
// anything is sent, that Source and Identity.ID are set (ErrAuth,
// ErrNoIdentity).
func (p *PSC) ConfigureTLS(*tls.Config) error { return p.check() }

// SASL returns an XOAUTH2 or OAUTHBEARER client with a fresh token.
func (p *PSC) SASL(ctx context.Context, mechs []string) (sasl.Client, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	tok, err := p.Source.Token()
	if err != nil {
		return nil, &TokenError{Err: err}
	}
	switch {
	case hasMech(mechs, XOAuth2):
		return NewXOAuth2Client(p.Username, tok.AccessToken), nil
	case hasMech(mechs, sasl.OAuthBearer):
		return &oauthBearer{Client: sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{
			Username: p.Username, Token: tok.AccessToken, Host: p.Host, Port: p.Port})}, nil
	}
	return nil, fmt.Errorf("%w: the server offers neither XOAUTH2 nor OAUTHBEARER (%s)", ErrAuth, strings.Join(mechs, " "))
}

// TokenError: the token source failed (refresh refused, network). The
// session must be closed: the professional has to sign in again.
type TokenError struct{ Err error }

func (e *TokenError) Error() string { return "bal: Pro Santé Connect token: " + e.Err.Error() }
func (e *TokenError) Unwrap() error { return e.Err }

// XOAuth2 is the SASL mechanism name of Google's XOAUTH2, which go-sasl
// does not provide.
const XOAuth2 = "XOAUTH2"

// RefusedError is the server's refusal of a token: the JSON it sends as a
// continuation ({"status":"401","schemes":"bearer","scope":"mail"}, as
// Dovecot and MSSanté operators do) before the final NO/535. It wraps
// ErrAuth and Reply.
type RefusedError struct {
	// Mechanism is XOAuth2 or OAUTHBEARER.
	Mechanism string
	// Status, Schemes and Scope are the fields of the server's JSON
	// (Status "unknown" when the challenge was not such JSON).
	Status  string
	Schemes string
	Scope   string
	// Reply is the server's final answer, which closes the exchange once
	// the client has acknowledged the JSON: an *IMAPError for AUTHENTICATE
	// (normally "NO [AUTHENTICATIONFAILED]") or an *SMTPError for AUTH
	// (normally 535, permanent). Another answer (BAD, a dropped connection)
	// says the exchange did not end as the mechanism specifies.
	Reply error
}

func (e *RefusedError) Error() string {
	msg := fmt.Sprintf("%v: %s token refused by the server (status %s, scope %q)", ErrAuth, e.Mechanism, e.Status, e.Scope)
	if e.Reply != nil {
		msg += ": " + e.Reply.Error()
	}
	return msg
}

// Unwrap gives ErrAuth and Reply.
func (e *RefusedError) Unwrap() []error {
	if e.Reply == nil {
		return []error{ErrAuth}
	}
	return []error{ErrAuth, e.Reply}
}

// xoauth2Client is a SASL XOAUTH2 client: initial response
// "user=<u>^Aauth=Bearer <token>^A^A"; a challenge is the server's error
// JSON, answered with an empty response ("The client sends an empty
// response ("\r\n") to the challenge containing the error message",
// Google's XOAUTH2 protocol, developers.google.com/gmail/imap/xoauth2-protocol,
// "Error response"), after which the server ends the exchange with its
// refusal. On IMAP the acknowledgement is %x01 instead (see forIMAP).
type xoauth2Client struct {
	user, token string
	mu          sync.Mutex
	refused     *RefusedError
}

// NewXOAuth2Client returns an XOAUTH2 client. After a failed
// authentication, Refused (via errors.As on the protocol error wrapped
// by the caller) tells what the server said.
func NewXOAuth2Client(user, token string) sasl.Client {
	return &xoauth2Client{user: user, token: token}
}

func (c *xoauth2Client) Start() (string, []byte, error) {
	return XOAuth2, []byte("user=" + c.user + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

func (c *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	c.mu.Lock()
	c.refused = parseRefusal(XOAuth2, challenge)
	c.mu.Unlock()
	return []byte{}, nil
}

// refusal returns the parsed server refusal, if any.
func (c *xoauth2Client) refusal() *RefusedError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refused
}

// forIMAP adapts a SASL client to go-imap v2 (v2.0.0-beta.8), which writes
// an empty continuation response as "=": that is RFC 4959's (SASL-IR)
// marker of an empty *initial* response, valid only on the AUTHENTICATE
// line; in a continuation the response is base64 (RFC 9051 §6.2.2 ABNF
// "authenticate = ... *(CRLF base64)"), where "=" is invalid, and Dovecot
// answers "BAD Invalid base64 data in continued response" instead of its
// refusal (emersion/go-imap issue #760, not fixed in the pinned version).
// go-imap cannot send an empty line, so XOAUTH2's empty acknowledgement of
// the server's error JSON becomes a single %x01, the dummy response RFC
// 7628 §3.2.3 gives OAUTHBEARER (XOAUTH2's standard successor) for the
// same step: the server ignores its content and ends the exchange with NO
// (checked on the real Dovecot 2.3 by TestIMAPRefusedTokenClosesExchange).
// go-smtp sends an empty response as an empty line, as SMTP AUTH expects
// (RFC 4954 §4), so submission keeps the empty one. Other clients are
// returned unchanged.
func forIMAP(c sasl.Client) sasl.Client {
	if x, ok := c.(*xoauth2Client); ok {
		return imapXOAuth2{x}
	}
	return c
}

// imapXOAuth2 is an XOAUTH2 client whose acknowledgement of the error
// challenge is %x01 (forIMAP).
type imapXOAuth2 struct{ *xoauth2Client }

func (c imapXOAuth2) Next(challenge []byte) ([]byte, error) {
	if _, err := c.xoauth2Client.Next(challenge); err != nil {
		return nil, err
	}
	return []byte{0x01}, nil
}

// oauthBearer wraps go-sasl's OAUTHBEARER client to keep the server's
// refusal (go-sasl returns it as an error from Next).
type oauthBearer struct {
	sasl.Client
	refused *RefusedError
}

func (c *oauthBearer) Next(challenge []byte) ([]byte, error) {
	c.refused = parseRefusal(sasl.OAuthBearer, challenge)
	// RFC 7628 §3.2.3: the client answers the error challenge with a dummy
	// response, a single %x01, so that the server can end the exchange
	// with its refusal.
	return []byte{0x01}, nil
}

func parseRefusal(mech string, challenge []byte) *RefusedError {
	var j struct {
		Status  string `json:"status"`
		Schemes string `json:"schemes"`
		Scope   string `json:"scope"`
	}
	r := &RefusedError{Mechanism: mech, Status: "unknown"}
	if json.Unmarshal(challenge, &j) == nil {
		r.Status, r.Schemes, r.Scope = j.Status, j.Schemes, j.Scope
	}
	return r
}

// refusalOf returns the refusal a SASL client saw, if it is one of ours.
func refusalOf(c sasl.Client) *RefusedError {
	switch x := c.(type) {
	case *xoauth2Client:
		return x.refusal()
	case imapXOAuth2:
		return x.refusal()
	case *oauthBearer:
		return x.refused
	}
	return nil
}

// refused returns the refusal a SASL client saw with the server's final
// reply to the exchange, or nil when the client saw none.
func refused(c sasl.Client, reply error) *RefusedError {
	r := refusalOf(c)
	if r == nil {
		return nil
	}
	x := *r
	x.Reply = reply
	return &x
}
