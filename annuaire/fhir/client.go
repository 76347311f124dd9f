// SPDX-License-Identifier: Apache-2.0

package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecdaf744/gomss/annuaire"
)

// DefaultBaseURL is the national gateway of the Annuaire Santé FHIR API v2.
const DefaultBaseURL = "https://gateway.api.esante.gouv.fr/fhir/v2"

// MaxPageSize is the largest page size this client asks for: the ANS
// maintainers advise _count ≤ 200, larger pages time out or fail with 502
// (annuaire-sante-fhir-documentation issue #372).
const MaxPageSize = 200

// DeltaWindow is how far back a delta sync may start: the server keeps 30
// days of updates (ANS documentation, "Appels Delta").
const DeltaWindow = 30 * 24 * time.Hour

// maxBody bounds a response body (200 large practitioners are a few MB).
const maxBody = 64 << 20

// Client calls the Annuaire Santé FHIR API v2. The zero value is usable
// once APIKey is set (the gateway refuses calls without it); other fields
// have documented defaults. A Client is safe for concurrent use and must
// not be copied after first use.
type Client struct {
	// BaseURL is the API root, default DefaultBaseURL.
	BaseURL string
	// APIKey is sent in the ESANTE-API-KEY header.
	APIKey string
	// HTTPClient sends the requests, default a client with
	// http.DefaultTransport, read at the first request. Its own Timeout,
	// if any, also applies; its CheckRedirect does not: redirects are
	// never followed.
	HTTPClient *http.Client
	// Timeout bounds each attempt, response body included (default 30 s,
	// the gateway's own limit).
	Timeout time.Duration
	// PageSize is the _count of searches (default 100, at most MaxPageSize).
	PageSize int
	// MaxPages is the most pages one Search follows (default 50,000: the
	// whole directory at the default page size); a gateway that keeps
	// sending new next links then ends the search with ErrBundle.
	MaxPages int
	// Limiter spaces the requests: Wait is called before each attempt
	// (default: NewLimiter(DefaultRate), one per Client). Share one
	// Limiter between Clients using the same key.
	Limiter Limiter
	// MaxRetries is the number of retries after a 429, 502, 503 or 504
	// answer or a network error (default 4; negative: none).
	MaxRetries int
	// Backoff is the first wait between retries, doubled each time with
	// jitter up to 30 s (default 1 s). A 429 or 503 answer's Retry-After
	// is honoured instead when it is longer, up to MaxRetryAfter.
	Backoff time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for;
	// beyond it the *APIError is returned (default 2 min).
	MaxRetryAfter time.Duration
	// MaxURL is the longest query string sent with GET; longer searches
	// are sent as POST [type]/_search (default 2,000 bytes).
	MaxURL int

	once sync.Once
	lim  Limiter
	hc   *http.Client                               // HTTPClient (or a default one) that follows no redirect
	now  func() time.Time                           // tests
	wait func(context.Context, time.Duration) error // tests
}

// Sentinel errors. Errors returned by this package wrap one of them, are
// an *APIError naming the request, or come from the context or the
// network (wrapped, with the request).
var (
	// ErrDeltaTooOld: a delta sync starts more than 30 days ago.
	ErrDeltaTooOld = errors.New("fhir: delta older than 30 days")
	// ErrPageSize: a page size above 200 was asked for.
	ErrPageSize = errors.New("fhir: page size")
	// ErrBundle: an API response is not a usable FHIR Bundle.
	ErrBundle = errors.New("fhir: bundle")
	// ErrRedirect: the API answered with a redirect, which is never
	// followed (the API key would go along, and the answer would come
	// from elsewhere).
	ErrRedirect = errors.New("fhir: redirect not followed")
	// ErrResourceType: a resource type this client does not handle there
	// (a delta sync is of Practitioner, PractitionerRole or Organization).
	ErrResourceType = errors.New("fhir: resource type")
)

var _ annuaire.MailboxResolver = (*Client)(nil)

// APIError is an unsuccessful answer of the API, with the issues of its
// OperationOutcome when it had one.
type APIError struct {
	Method     string
	URL        string // without the API key, which is never in a URL
	StatusCode int
	Issues     []Issue
	// RetryAfter is the server's Retry-After, when it gave one.
	RetryAfter time.Duration
	// Body is the start of a body that was not an OperationOutcome.
	Body string
}

// Issue is one issue of a FHIR OperationOutcome.
type Issue struct {
	Severity    string `json:"severity"`
	Code        string `json:"code"`
	Diagnostics string `json:"diagnostics"`
}

// Error formats the error as: fhir: GET <url>: 400 Bad Request: <issues>.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fhir: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	for _, is := range e.Issues {
		fmt.Fprintf(&b, ": %s %s: %s", is.Severity, is.Code, is.Diagnostics)
	}
	if len(e.Issues) == 0 && e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %v)", e.RetryAfter)
	}
	return b.String()
}

// Temporary reports whether a later retry may succeed (429, 502, 503, 504).
func (e *APIError) Temporary() bool { return retryable(e.StatusCode) }

func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (c *Client) init() {
	c.once.Do(func() {
		c.lim = c.Limiter
		if c.lim == nil {
			c.lim = NewLimiter(DefaultRate)
		}
		if c.now == nil {
			c.now = time.Now
		}
		if c.wait == nil {
			c.wait = sleepCtx
		}
		// Redirects are never followed: net/http would send
		// ESANTE-API-KEY along to any host (it drops only its own
		// sensitive headers), and the answer would come from a server that
		// is not the gateway. A copy, so the caller's client is unchanged.
		c.hc = &http.Client{}
		if c.HTTPClient != nil {
			cp := *c.HTTPClient
			c.hc = &cp
		}
		c.hc.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
			return fmt.Errorf("%w: to %s://%s%s", ErrRedirect, r.URL.Scheme, r.URL.Host, r.URL.Path)
		}
	})
}

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimSuffix(c.BaseURL, "/")
}

func (c *Client) pageSize() (int, error) {
	switch {
	case c.PageSize == 0:
		return 100, nil
	case c.PageSize < 0 || c.PageSize > MaxPageSize:
		return 0, fmt.Errorf("%w %d: want 1 to %d (larger pages fail with 502 at the gateway)", ErrPageSize, c.PageSize, MaxPageSize)
	}
	return c.PageSize, nil
}

// Search runs a search on a resource type (Practitioner, PractitionerRole,
// Organization…) and yields its pages, following the opaque "next" links.
// _count is set from PageSize unless params holds one (at most
// MaxPageSize). Iteration stops at the first error, which is yielded.
func (c *Client) Search(ctx context.Context, resourceType string, params url.Values) iter.Seq2[*Bundle, error] {
	return func(yield func(*Bundle, error) bool) {
		c.init()
		q := url.Values{}
		for k, v := range params {
			q[k] = v
		}
		if q.Get("_count") == "" {
			n, err := c.pageSize()
			if err != nil {
				yield(nil, err)
				return
			}
			q.Set("_count", strconv.Itoa(n))
		} else if n, err := strconv.Atoi(q.Get("_count")); err != nil || n < 1 || n > MaxPageSize {
			yield(nil, fmt.Errorf("%w %q: want 1 to %d", ErrPageSize, q.Get("_count"), MaxPageSize))
			return
		}
		enc := q.Encode()
		maxURL := c.MaxURL
		if maxURL <= 0 {
			maxURL = 2000
		}
		var b *Bundle
		var err error
		if len(enc) > maxURL {
			b, err = c.do(ctx, http.MethodPost, c.base()+"/"+resourceType+"/_search", enc)
		} else {
			b, err = c.do(ctx, http.MethodGet, c.base()+"/"+resourceType+"?"+enc, "")
		}
		seen := map[string]bool{}
		maxPages := c.MaxPages
		if maxPages <= 0 {
			maxPages = 50_000
		}
		for page := 1; ; page++ {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(b, nil) {
				return
			}
			next := b.Next()
			if next == "" {
				return
			}
			if page >= maxPages {
				yield(nil, fmt.Errorf("%w: more than %d pages (MaxPages): not followed further", ErrBundle, maxPages))
				return
			}
			if seen[next] {
				yield(nil, fmt.Errorf("%w: next link %s repeats an earlier page", ErrBundle, clip(next)))
				return
			}
			seen[next] = true
			if err := c.sameOrigin(next); err != nil {
				yield(nil, err)
				return
			}
			b, err = c.do(ctx, http.MethodGet, next, "")
		}
	}
}

// sameOrigin refuses a next link to another scheme or host than BaseURL:
// the API key must not be sent elsewhere.
func (c *Client) sameOrigin(link string) error {
	u, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("%w: next link %q: %v", ErrBundle, clip(link), err)
	}
	b, _ := url.Parse(c.base())
	if u.Scheme != b.Scheme || u.Host != b.Host {
		return fmt.Errorf("%w: next link to %s://%s, not the API's %s://%s: not followed (the API key would leak)", ErrBundle, u.Scheme, u.Host, b.Scheme, b.Host)
	}
	return nil
}

// do sends one request with retries and decodes a Bundle.
func (c *Client) do(ctx context.Context, method, u, form string) (*Bundle, error) {
	c.init()
	maxRetries := c.MaxRetries
	if maxRetries == 0 {
		maxRetries = 4
	}
	for attempt := 0; ; attempt++ {
		if err := c.lim.Wait(ctx); err != nil {
			return nil, err
		}
		b, retryAfter, err := c.once1(ctx, method, u, form)
		if err == nil {
			return b, nil
		}
		var ae *APIError
		isAPI := errors.As(err, &ae)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case isAPI && !ae.Temporary(), attempt >= maxRetries, maxRetries < 0:
			return nil, err
		case !isAPI && !isTransient(err):
			return nil, err
		}
		wait := c.backoff(attempt)
		if retryAfter > 0 {
			maxRA := c.MaxRetryAfter
			if maxRA <= 0 {
				maxRA = 2 * time.Minute
			}
			if retryAfter > maxRA {
				return nil, err
			}
			wait = max(wait, retryAfter)
		}
		if err := c.wait(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.Backoff
	if d <= 0 {
		d = time.Second
	}
	for i := 0; i < attempt && d < 30*time.Second; i++ {
		d *= 2
	}
	d = min(d, 30*time.Second)
	// Jitter: between 75 % and 100 % of d, so that clients spread out.
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// isTransient reports network errors worth a retry (timeouts, resets).
func isTransient(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "connection reset")
}

// once1 sends one attempt.
func (c *Client) once1(ctx context.Context, method, u, form string) (*Bundle, time.Duration, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(actx, method, u, body)
	if err != nil {
		return nil, 0, fmt.Errorf("fhir: %s %s: %w", method, clip(u), err)
	}
	req.Header.Set("ESANTE-API-KEY", c.APIKey)
	req.Header.Set("Accept", "application/fhir+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("fhir: %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	lr := &io.LimitedReader{R: resp.Body, N: maxBody + 1}
	if resp.StatusCode != http.StatusOK {
		ae := &APIError{Method: method, URL: u, StatusCode: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now())}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var oo struct {
			ResourceType string  `json:"resourceType"`
			Issue        []Issue `json:"issue"`
		}
		if json.Unmarshal(data, &oo) == nil && oo.ResourceType == "OperationOutcome" {
			ae.Issues = oo.Issue
		} else {
			ae.Body = clip(strings.TrimSpace(string(data)))
		}
		return nil, ae.RetryAfter, ae
	}
	var b Bundle
	if err := json.NewDecoder(lr).Decode(&b); err != nil {
		if lr.N <= 0 {
			return nil, 0, fmt.Errorf("%w: %s %s: body larger than %d bytes", ErrBundle, method, u, maxBody)
		}
		if ctx.Err() == nil && actx.Err() != nil {
			return nil, 0, fmt.Errorf("fhir: %s %s: no complete answer within %v: %w", method, u, timeout, actx.Err())
		}
		return nil, 0, fmt.Errorf("%w: %s %s: %v", ErrBundle, method, u, err)
	}
	if b.ResourceType != "Bundle" {
		return nil, 0, fmt.Errorf("%w: %s %s: resourceType %q, want Bundle", ErrBundle, method, u, clip(b.ResourceType))
	}
	return &b, 0, nil
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
