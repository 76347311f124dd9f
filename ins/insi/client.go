// SPDX-License-Identifier: Apache-2.0

package insi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Endpoints of the INSi service. There is no default: Config.Endpoint must
// name one, so that no configuration points at production by omission.
const (
	// EndpointQualificationMTLS is the qualification (test) platform for
	// mTLS mode, as written in WSDL 1.5.0 (soap12:address).
	EndpointQualificationMTLS = "https://qualiflps-services-ps-tlsm.ameli.fr:443/lps"
	// EndpointProductionMTLS is the production platform for mTLS mode.
	EndpointProductionMTLS = "https://services-ps-tlsm.ameli.fr/lps"
	// EndpointQualificationCPx is the qualification platform for CPx mode
	// (padoa/tlsi-ins INSi_CPX_TEST_URL). The production address of CPx
	// mode is given to the vendor with its authorisation; pass it in
	// Config.Endpoint.
	EndpointQualificationCPx = "https://qualiflps.services-ps.ameli.fr:443/lps"
)

// Config configures a Client. Endpoint, Software, Credentials and TLS are
// required; the other fields have working zero values.
type Config struct {
	// Endpoint is the service URL: one of the Endpoint constants, or the
	// URL of a test server (ins/insitest). Required, https only.
	Endpoint string
	// Software identifies the calling software and its CNDA authorisation
	// (IDAM) in ContexteLPS. Required.
	Software Software
	// Credentials authenticate the calls: NewMTLS (structure's
	// INSI-AUTO/INSI-MANU certificate) or NewCPx (professional's card).
	// Required.
	Credentials Credentials
	// TLS verifies the server. Its RootCAs must hold the roots the service's
	// certificate chains to: IGC-Santé "AC RACINE IGC-SANTE ELEMENTAIRE"
	// with "AC IGC-SANTE ELEMENTAIRE ORGANISATIONS" (padoa/tlsi-ins README;
	// bal.Trust gives them), or the test PKI of ins/insitest. Required;
	// InsecureSkipVerify is refused. The client certificate is set from
	// Credentials, whatever this configuration holds.
	TLS *tls.Config
	// Emitter overrides Credentials.Emitter() in ContexteBAM/Emetteur and
	// ContexteLPS/Emetteur.
	Emitter string
	// Retry bounds the retries of a call that failed with the retryable
	// class (ErrRetryLater). The zero value retries as documented on Retry.
	Retry Retry
	// Observer, when set, is told about every call (each attempt of each
	// search), without the patient's traits: see Call.
	Observer Observer
	// Timeout bounds one HTTP exchange; 0 means 30 seconds. The context
	// given to each method bounds the whole operation, retries included.
	Timeout time.Duration
	// Now is the clock for Temps and ReceivedAt; nil means time.Now.
	Now func() time.Time
}

// Retry is the policy for faults of the retryable class (insi_102). Other
// failures are never retried: faults of configuration, CR 01/02 (answers,
// not failures), transport errors (a cut connection may hide an answer
// already given; the caller decides).
type Retry struct {
	// MaxAttempts is the number of attempts in all, at least 1; 0 means 3.
	MaxAttempts int
	// Backoff is the wait before the second attempt, doubled before each
	// further one; 0 means 2 seconds.
	Backoff time.Duration
	// MaxBackoff caps the wait; 0 means 30 seconds.
	MaxBackoff time.Duration
}

func (r Retry) attempts() int {
	if r.MaxAttempts <= 0 {
		return 3
	}
	return r.MaxAttempts
}

func (r Retry) wait(n int) time.Duration {
	d, max := r.Backoff, r.MaxBackoff
	if d <= 0 {
		d = 2 * time.Second
	}
	if max <= 0 {
		max = 30 * time.Second
	}
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Client calls the INSi service. It is safe for concurrent use.
type Client struct {
	cfg     Config
	http    *http.Client
	emitter string
	now     func() time.Time
}

// New checks cfg and returns a client. It makes no call: a wrong IDAM or a
// refused certificate shows at the first call.
func New(cfg Config) (*Client, error) {
	if cfg.Endpoint == "" {
		return nil, configErrorf("insi: Config.Endpoint is required (EndpointQualificationMTLS, EndpointProductionMTLS, EndpointQualificationCPx or a test server): there is no default")
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, configErrorf("insi: Config.Endpoint %q: want an https:// URL", cfg.Endpoint)
	}
	if cfg.Credentials == nil {
		return nil, configErrorf("insi: Config.Credentials is required (NewMTLS or NewCPx)")
	}
	mode := cfg.Credentials.Mode()
	switch {
	case mode == ModeCPx && (cfg.Endpoint == EndpointQualificationMTLS || cfg.Endpoint == EndpointProductionMTLS):
		return nil, configErrorf("insi: Config.Endpoint %s is the mTLS platform; CPx credentials call EndpointQualificationCPx or the CPx production address", cfg.Endpoint)
	case mode == ModeMTLS && cfg.Endpoint == EndpointQualificationCPx:
		return nil, configErrorf("insi: Config.Endpoint %s is the CPx platform; mTLS credentials call EndpointQualificationMTLS or EndpointProductionMTLS", cfg.Endpoint)
	}
	if err := cfg.Software.validate(); err != nil {
		return nil, err
	}
	if cfg.TLS == nil || cfg.TLS.RootCAs == nil {
		return nil, configErrorf("insi: Config.TLS with RootCAs is required to verify the server (IGC-Santé roots, e.g. from bal.Trust)")
	}
	if cfg.TLS.InsecureSkipVerify {
		return nil, configErrorf("insi: Config.TLS.InsecureSkipVerify: the server must be verified")
	}
	tc := cfg.TLS.Clone()
	if tc.MinVersion < tls.VersionTLS12 {
		tc.MinVersion = tls.VersionTLS12
	}
	cfg.Credentials.configureTLS(tc)
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	c := &Client{
		cfg: cfg,
		http: &http.Client{
			Timeout: timeout,
			Transport: &http.Transport{
				TLSClientConfig:     tc,
				TLSHandshakeTimeout: timeout,
				MaxIdleConnsPerHost: 2,
				IdleConnTimeout:     90 * time.Second,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		emitter: cfg.Emitter,
		now:     cfg.Now,
	}
	if c.emitter == "" {
		c.emitter = cfg.Credentials.Emitter()
	}
	if err := checkToken("Emitter", strings.ReplaceAll(c.emitter, " ", "_")); err != nil || c.emitter == "" {
		return nil, configErrorf("insi: emitter %q: want a non-empty identifier on one line", c.emitter)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Mode returns the authentication mode of the client's credentials.
func (c *Client) Mode() Mode { return c.cfg.Credentials.Mode() }

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// NewTraitsRequest builds the RECSANSVITALE request for q without sending
// it (for a dry run). In CPx mode the assertion is signed.
func (c *Client) NewTraitsRequest(q TraitsQuery) (*Request, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return c.build(OpSearchByTraits, q.writeBody)
}

// NewVitaleRequest builds the RECVITALE request for q without sending it.
func (c *Client) NewVitaleRequest(q VitaleQuery) (*Request, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return c.build(OpSearchWithVitale, q.writeBody)
}

func (c *Client) build(op Operation, body func(xw)) (*Request, error) {
	now := c.now()
	h := header{op: op, messageID: newUUID(), bamID: newUUID(), lpsID: newUUID(), now: now, emitter: c.emitter, sw: c.cfg.Software}
	sec, err := c.cfg.Credentials.security(now, newUUID)
	if err != nil {
		return nil, err
	}
	h.security = sec
	var b bytes.Buffer
	b.Grow(2048 + len(sec))
	writeEnvelope(&b, &h, body)
	return &Request{Operation: op, MessageID: h.messageID, Body: b.Bytes()}, nil
}

// SearchByTraits makes one call of rechercherInsAvecTraitsIdentite with q
// (retrying only ErrRetryLater faults, see Retry). It returns the *Result
// with a nil error for CR 00, the *Result with an error wrapping
// ErrNotFound (CR 01) or ErrSeveralIdentities (CR 02), or nil and the
// failure: a *Fault, an *HTTPError, an error wrapping ErrMalformedAnswer, a
// transport or context error. Most callers want Search, which applies the
// integrators' strategy.
func (c *Client) SearchByTraits(ctx context.Context, q TraitsQuery) (*Result, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return c.call(ctx, OpSearchByTraits, q.writeBody, "")
}

// SearchWithVitale makes one call of rechercherInsAvecCarteVitale with the
// data read from a carte Vitale. Results and errors are as for
// SearchByTraits; the INS returned is the beneficiary's, not necessarily
// the card holder's matricule.
func (c *Client) SearchWithVitale(ctx context.Context, q VitaleQuery) (*Result, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return c.call(ctx, OpSearchWithVitale, q.writeBody, "")
}

// call sends the request, retrying the retryable class, and reports every
// attempt to the observer.
func (c *Client) call(ctx context.Context, op Operation, body func(xw), correlation string) (*Result, error) {
	attempts := c.cfg.Retry.attempts()
	var res *Result
	var err error
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var req *Request
		if req, err = c.build(op, body); err != nil {
			return nil, err
		}
		start := c.now()
		res, err = c.send(ctx, req)
		if oerr := c.observe(ctx, req, n, start, correlation, res, err); oerr != nil {
			return res, errors.Join(err, oerr)
		}
		f, isF := isFault(err)
		if !isF || !f.Retryable() || n >= attempts {
			return res, err
		}
		t := time.NewTimer(c.cfg.Retry.wait(n))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("insi: waiting to retry after %w: %w", err, ctx.Err())
		case <-t.C:
		}
	}
}

func (c *Client) send(ctx context.Context, req *Request) (*Result, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoint, bytes.NewReader(req.Body))
	if err != nil {
		return nil, configErrorf("insi: request: %w", err)
	}
	// SOAP 1.2 over HTTP: the action goes in the media type's parameter.
	hr.Header.Set("Content-Type", `application/soap+xml; charset=utf-8; action="`+req.Operation.Action()+`"`)
	hr.Header.Set("Accept", "application/soap+xml, text/xml")
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("insi: %s: %w", req.Operation, err)
	}
	defer resp.Body.Close()
	// Keep the beginning of the body for an HTTPError: what a proxy says.
	var head bytes.Buffer
	res, perr := ParseResponse(io.TeeReader(resp.Body, &limitedBuffer{&head, 512}))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxAnswerSize))
	if f, ok := isFault(perr); ok {
		f.HTTPStatus = resp.StatusCode
		return nil, f
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{Status: resp.StatusCode, Body: strings.TrimSpace(head.String())}
	}
	if res == nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("insi: %s: reading the answer: %w", req.Operation, ctxErr)
		}
		return nil, perr
	}
	res.Operation = req.Operation
	res.MessageID = req.MessageID
	res.ReceivedAt = c.now()
	return res, perr
}

// limitedBuffer keeps the first n bytes written.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	out := make([]byte, 36)
	j := 0
	for i, v := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexd[v>>4], hexd[v&0x0f]
		j += 2
	}
	return string(out)
}
