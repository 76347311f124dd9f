// SPDX-License-Identifier: Apache-2.0

package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/ecdaf744/gomss/annuaire/annuairetest"
)

const testKey = "test-key-0123"

func fhirFixtures(t testing.TB) [][]byte {
	t.Helper()
	files, err := filepath.Glob("../../testdata/annuaire/fhir/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "fixtures")
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

// newAPI starts the fake API with the fixtures and returns a client of it
// whose waits (backoff, Retry-After) are recorded instead of slept.
func newAPI(t *testing.T, extra ...[]byte) (*annuairetest.Server, *Client, *[]time.Duration) {
	t.Helper()
	srv, err := annuairetest.NewServer(testKey, append(fhirFixtures(t), extra...)...)
	require.NoError(t, err)
	srv.RatePerSecond = -1
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	waits := &[]time.Duration{}
	c := &Client{BaseURL: srv.BaseURL(), APIKey: testKey, Limiter: NewLimiter(1e6), Backoff: 10 * time.Millisecond}
	c.now = func() time.Time { return time.Date(2026, 8, 25, 12, 0, 0, 0, time.UTC) }
	c.wait = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		*waits = append(*waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	return srv, c, waits
}

func decodeFixture(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("../../testdata/annuaire/fhir/" + name)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), name)
}

func TestFHIRMailboxes(t *testing.T) {
	var p Practitioner
	decodeFixture(t, "practitioner.json", &p)
	ms := p.Mailboxes()
	require.Len(t, ms, 1, "practitioner")
	want := annuaire.Mailbox{Address: "heloise.fictif@medecin.mssante.fr", Type: annuaire.PER, Service: "Cardiologie", Digitization: annuaire.DigitizationAccepted,
		Owner: annuaire.Person{IDType: "8", ID: "10000000025", IDNPS: "810000000025", Civility: "DR", Family: "FICTIF", Given: "Héloïse",
			Category: annuaire.Code{Code: "C", Label: "Civil"}, Profession: annuaire.Code{Code: "10", Label: "Médecin"}, Specialty: annuaire.Code{Code: "SM04", Label: "Cardiologie et maladies vasculaires"}},
		Source: annuaire.FromAPI, Resource: "Practitioner/003-1000000-0000025"}
	assert.Equal(t, want, ms[0], "practitioner mailbox")

	var o Organization
	decodeFixture(t, "organization.json", &o)
	var got []string
	for _, m := range o.Mailboxes() {
		got = append(got, fmt.Sprintf("%s %s %q %v %s/%s %s", m.Type, m.Address, m.Description, m.Digitization, m.Structure.IDType, m.Structure.ID, m.Structure.CityLine))
	}
	wantOrg := []string{
		`ORG secretariat.cardio@ch-exemple.mssante.fr "Secrétariat de cardiologie" accepted 1/130000003 13005 MARSEILLE`,
		`APP dpi@ch-exemple.mssante.fr "Réception automatique des résultats" unknown 1/130000003 13005 MARSEILLE`,
	}
	assert.Equal(t, wantOrg, got, "organization mailboxes (the contact e-mail is not one)")

	var v1 Practitioner
	decodeFixture(t, "practitioner-v1.json", &v1)
	ms = v1.Mailboxes()
	require.Len(t, ms, 1, "v1 MailboxMSS extension")
	assert.Equal(t, "jeanne.exemple@medecin.mssante.fr", ms[0].Address)
	assert.Equal(t, annuaire.CAB, ms[0].Type)
	assert.Equal(t, annuaire.DigitizationRefused, ms[0].Digitization)
	assert.Equal(t, "10000000017", ms[0].Owner.ID)
	assert.Equal(t, "10", ms[0].Owner.Profession.Code)

	var r PractitionerRole
	decodeFixture(t, "practitionerrole.json", &r)
	ms = r.Mailboxes()
	require.Len(t, ms, 1, "role mailboxes")
	assert.Equal(t, annuaire.PER, ms[0].Type)
	assert.Equal(t, "10", ms[0].Owner.Profession.Code)
	assert.Equal(t, annuaire.DigitizationRefused, ms[0].Digitization)
}

func TestResolveMailbox(t *testing.T) {
	srv, c, _ := newAPI(t)
	ctx := context.Background()
	for _, tc := range []struct {
		addr, want string
	}{
		{"h.fictif@ch-exemple.mssante.fr", "PER PractitionerRole/005-1000000-0000025 FICTIF Héloïse 810000000025 10 CENTRE HOSPITALIER D'EXEMPLE"},
		{"HELOISE.FICTIF@medecin.mssante.fr", "PER Practitioner/003-1000000-0000025 FICTIF Héloïse 810000000025 10 "},
		{"secretariat.cardio@ch-exemple.mssante.fr", "ORG Organization/001-0130000-0000003     CENTRE HOSPITALIER D'EXEMPLE"},
		{"dpi@ch-exemple.mssante.fr", "APP Organization/001-0130000-0000003     CENTRE HOSPITALIER D'EXEMPLE"},
		{"jeanne.exemple@medecin.mssante.fr", "CAB Practitioner/pp-v1-1000000000017 EXEMPLE Jeanne  10 "},
		{"contact@ch-exemple.test", ""},
		{"heloise@medecin.mssante.fr", ""},
	} {
		ms, err := c.ResolveMailbox(ctx, tc.addr)
		require.NoError(t, err, tc.addr)
		got := ""
		if len(ms) > 0 {
			m := ms[0]
			got = fmt.Sprintf("%s %s %s %s %s %s %s", m.Type, m.Resource, m.Owner.Family, m.Owner.Given, m.Owner.IDNPS, m.Owner.Profession.Code, m.Structure.Name)
		}
		assert.Equal(t, tc.want, got, "ResolveMailbox(%s)", tc.addr)
		assert.LessOrEqual(t, len(ms), 1, "ResolveMailbox(%s)", tc.addr)
	}
	for _, r := range srv.Requests() {
		assert.Equal(t, http.StatusOK, r.Status, "request %s %s", r.Method, r.Path)
	}
	n := len(srv.Requests())
	_, err := c.ResolveMailbox(ctx, "not-an-address")
	require.ErrorIs(t, err, annuaire.ErrAddress)
	assert.Len(t, srv.Requests(), n, "a bad address is not sent")
}

// generatedPractitioners returns n Practitioner resources for paging tests.
func generatedPractitioners(n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		p := Practitioner{
			ResourceType: "Practitioner", ID: fmt.Sprintf("003-%07d", i),
			Identifier:    []Identifier{{System: systemRPPS, Value: fmt.Sprintf("1%010d", i)}},
			Name:          []HumanName{{Use: "usual", Family: "PAGE", Given: []string{fmt.Sprintf("P%03d", i)}}},
			Qualification: []Qualification{{Code: CodeableConcept{Coding: []Coding{{System: "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante", Code: "60"}}}}},
		}
		b, err := json.Marshal(p)
		if err != nil {
			panic(err) // a struct of strings always marshals
		}
		out = append(out, b)
	}
	return out
}

func TestPaging(t *testing.T) {
	srv, c, _ := newAPI(t, generatedPractitioners(123)...)
	c.PageSize = 50
	var ids []string
	for p, err := range c.Practitioners(context.Background(), PractitionerQuery{Qualification: "60"}) {
		require.NoError(t, err)
		ids = append(ids, p.ID)
	}
	require.Len(t, ids, 123)
	assert.Equal(t, "003-0000000", ids[0])
	assert.Equal(t, "003-0000122", ids[122])
	reqs := srv.Requests()
	require.Len(t, reqs, 3, "a search then two _page")
	assert.Equal(t, "50", reqs[0].Query.Get("_count"))
	assert.Equal(t, "/fhir/v2/_page", reqs[1].Path)
	// Stopping early sends no more requests.
	n := len(srv.Requests())
	for range c.Practitioners(context.Background(), PractitionerQuery{Qualification: "60"}) {
		break
	}
	assert.Equal(t, 1, len(srv.Requests())-n, "breaking after the first result sends one request")
	// Page size rules: above 200 is refused before any request.
	c.PageSize = 500
	n = len(srv.Requests())
	errs := 0
	for _, err := range c.Practitioners(context.Background(), PractitionerQuery{}) {
		assert.ErrorIs(t, err, ErrPageSize, "PageSize 500")
		errs++
	}
	for _, err := range c.Search(context.Background(), "Practitioner", url.Values{"_count": {"1000"}}) {
		assert.ErrorIs(t, err, ErrPageSize, "_count 1000")
		errs++
	}
	assert.Equal(t, 2, errs, "each search yields its error")
	assert.Len(t, srv.Requests(), n, "no request sent with a page size above 200")
	// The fake answers large pages as the gateway does: 502, not FHIR.
	req, err := http.NewRequest("GET", srv.BaseURL()+"/Practitioner?_count=1000", nil)
	require.NoError(t, err)
	req.Header.Set("ESANTE-API-KEY", testKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode, "fake with _count=1000")
}

func TestPOSTSearch(t *testing.T) {
	srv, c, _ := newAPI(t, generatedPractitioners(5)...)
	c.MaxURL = 10
	var n int
	for p, err := range c.Practitioners(context.Background(), PractitionerQuery{Qualification: "60", Family: "page"}) {
		require.NoError(t, err)
		assert.Equal(t, "PAGE", p.Person().Family)
		n++
	}
	assert.Equal(t, 5, n)
	reqs := srv.Requests()
	require.Len(t, reqs, 1, "5 results by one POST _search")
	assert.Equal(t, "POST", reqs[0].Method)
	assert.Equal(t, "/fhir/v2/Practitioner/_search", reqs[0].Path)
}

func TestRetries(t *testing.T) {
	srv, c, waits := newAPI(t)
	srv.FailNext(annuairetest.Forced{Status: 429, RetryAfter: "3"}, annuairetest.Forced{Status: 502}, annuairetest.Forced{Status: 503}, annuairetest.Forced{Status: 504})
	ms, err := c.ResolveMailbox(context.Background(), "secretariat.cardio@ch-exemple.mssante.fr")
	require.NoError(t, err, "after 4 transient failures")
	require.Len(t, ms, 1)
	require.Len(t, *waits, 4)
	assert.Equal(t, 3*time.Second, (*waits)[0], "the first wait is the Retry-After of 3 s")
	for i, w := range (*waits)[1:] {
		base := 10 * time.Millisecond << (i + 1)
		assert.LessOrEqual(t, w, base, "backoff %d", i+2)
		assert.GreaterOrEqual(t, w, base*3/4, "backoff %d", i+2)
	}

	// Retries exhausted: the last error is returned.
	*waits = nil
	c2 := &Client{BaseURL: c.BaseURL, APIKey: testKey, MaxRetries: 2, Limiter: c.Limiter, now: c.now, wait: c.wait}
	srv.FailNext(annuairetest.Forced{Status: 503}, annuairetest.Forced{Status: 503}, annuairetest.Forced{Status: 503})
	_, err = c2.ResolveMailbox(context.Background(), "dpi@ch-exemple.mssante.fr")
	var ae *APIError
	require.ErrorAs(t, err, &ae, "exhausted")
	assert.Equal(t, 503, ae.StatusCode)
	assert.Len(t, *waits, 2)

	// A Retry-After longer than MaxRetryAfter is not waited for.
	*waits = nil
	srv.FailNext(annuairetest.Forced{Status: 429, RetryAfter: "3600"})
	_, err = c.ResolveMailbox(context.Background(), "dpi@ch-exemple.mssante.fr")
	require.ErrorAs(t, err, &ae, "long Retry-After")
	assert.Equal(t, 429, ae.StatusCode)
	assert.Equal(t, time.Hour, ae.RetryAfter)
	assert.Empty(t, *waits, "not waited for")

	// The fake's own limit: the request over RatePerSecond in a second
	// gets 429 with Retry-After: 1.
	srv.RatePerSecond = 3
	var statuses []int
	for i := 0; i < 4; i++ {
		req, err := http.NewRequest("GET", srv.BaseURL()+"/Organization", nil)
		require.NoError(t, err)
		req.Header.Set("ESANTE-API-KEY", testKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		if i == 3 {
			assert.Equal(t, "1", resp.Header.Get("Retry-After"), "429 with Retry-After: 1")
		}
	}
	assert.Equal(t, []int{200, 200, 200, 429}, statuses, "fake rate limit")
}

func TestAPIErrors(t *testing.T) {
	srv, c, waits := newAPI(t)
	ctx := context.Background()
	check := func(name string, err error, status int, diag string) {
		t.Helper()
		var ae *APIError
		require.ErrorAs(t, err, &ae, name)
		assert.Equal(t, status, ae.StatusCode, name)
		diags := ""
		for _, is := range ae.Issues {
			diags += is.Diagnostics + "\n"
		}
		assert.Contains(t, diags, diag, "%s: the OperationOutcome's diagnostics", name)
		assert.Contains(t, ae.Error(), diag, "%s: the message shows them", name)
	}
	for _, err := range c.Search(ctx, "PractitiXXXner", nil) {
		check("unknown type", err, 404, "HAPI-0302: Unknown resource type 'PractitiXXXner'")
	}
	for _, err := range c.Search(ctx, "Practitioner", url.Values{"specialty": {"SM54"}}) {
		check("unknown parameter", err, 400, `Unknown search parameter "specialty"`)
	}
	bad := &Client{BaseURL: c.BaseURL, APIKey: "wrong", Limiter: c.Limiter}
	for _, err := range bad.Search(ctx, "Practitioner", nil) {
		check("bad key", err, 401, "No API key")
	}
	assert.Empty(t, *waits, "4xx answers are not retried")
	require.Len(t, srv.Requests(), 3, "one request each")
	for _, r := range srv.Requests() {
		assert.NotEqual(t, http.StatusOK, r.Status, "unexpected success %+v", r)
	}
}

func TestNextLinkElsewhereNotFollowed(t *testing.T) {
	var hits int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset","total":2,
			"link":[{"relation":"next","url":"https://evil.example/fhir/v2/_page?id=x"}],"entry":[]}`)
	}))
	defer ts.Close()
	c := &Client{BaseURL: ts.URL + "/fhir/v2", APIKey: testKey, Limiter: NewLimiter(1e6)}
	var errs []error
	for _, err := range c.Search(context.Background(), "Practitioner", nil) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], ErrBundle)
	assert.Contains(t, errs[0].Error(), "the API key would leak")
	assert.Equal(t, 1, hits, "the link elsewhere is not followed")
}

func TestTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(release)
	c := &Client{BaseURL: ts.URL, APIKey: testKey, Timeout: 20 * time.Millisecond, MaxRetries: -1, Limiter: NewLimiter(1e6)}
	n := 0
	for _, err := range c.Search(context.Background(), "Practitioner", nil) {
		assert.ErrorIs(t, err, context.DeadlineExceeded, "timeout")
		n++
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.Timeout = time.Minute
	for _, err := range c.Search(ctx, "Practitioner", nil) {
		assert.ErrorIs(t, err, context.Canceled, "cancelled")
		n++
	}
	assert.Equal(t, 2, n, "each search yields its error")
}

// TestLimiterSpacing: the default limiter lets 17 requests start per
// second, evenly spaced, never a burst (the gateway's 17 calls per second,
// doc.go Sources). The reservations are taken at one instant, so the
// delays are exact whatever the machine's load.
func TestLimiterSpacing(t *testing.T) {
	c := &Client{}
	c.init()
	l, ok := c.lim.(*rate.Limiter)
	require.True(t, ok, "default limiter %T, want *rate.Limiter", c.lim)
	assert.Equal(t, rate.Limit(DefaultRate), l.Limit())
	assert.Equal(t, 1, l.Burst(), "no burst: evenly spaced")
	assert.Equal(t, rate.Limit(17), NewLimiter(0).Limit())

	// 34 callers at the same instant: one goes now, the others wait
	// 1/17 s, 2/17 s… 33/17 s: 17 per second, never more.
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	step := time.Second / 17
	for i := range 34 {
		r := l.ReserveN(now, 1)
		require.True(t, r.OK())
		assert.InDelta(t, time.Duration(i)*step, r.DelayFrom(now), float64(time.Microsecond), "caller %d", i+1)
	}
	// After an idle second, still one at a time: no saved-up burst.
	later := now.Add(34*step + time.Second)
	assert.Zero(t, l.ReserveN(later, 1).DelayFrom(later))
	assert.InDelta(t, step, l.ReserveN(later, 1).DelayFrom(later), float64(time.Microsecond))
}

// countingLimiter records its Wait calls and fails them once told to.
type countingLimiter struct {
	mu    sync.Mutex
	calls int
	err   error
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	return l.err
}

// TestClientLimiter: a Client takes any Limiter, waits on it before every
// attempt (retries included), shares it with another Client, and sends
// nothing when Wait fails.
func TestClientLimiter(t *testing.T) {
	srv, c, _ := newAPI(t)
	lim := &countingLimiter{}
	c.Limiter = lim
	other := &Client{BaseURL: c.BaseURL, APIKey: testKey, Limiter: lim}
	ctx := context.Background()
	_, err := c.ResolveMailbox(ctx, "secretariat.cardio@ch-exemple.mssante.fr")
	require.NoError(t, err)
	_, err = other.ResolveMailbox(ctx, "secretariat.cardio@ch-exemple.mssante.fr")
	require.NoError(t, err)
	assert.Equal(t, len(srv.Requests()), lim.calls, "one Wait per request, both clients on the shared limiter")
	require.Positive(t, lim.calls)

	srv.FailNext(annuairetest.Forced{Status: 503})
	n := len(srv.Requests())
	lim.calls = 0
	_, err = c.ResolveMailbox(ctx, "dpi@ch-exemple.mssante.fr")
	require.NoError(t, err)
	assert.Equal(t, len(srv.Requests())-n, lim.calls, "the retry waited too")

	stop := errors.New("limiter closed")
	lim.err = stop
	n = len(srv.Requests())
	_, err = c.ResolveMailbox(ctx, "dpi@ch-exemple.mssante.fr")
	require.ErrorIs(t, err, stop)
	assert.Len(t, srv.Requests(), n, "no request without the limiter's leave")
}

func TestUpdates(t *testing.T) {
	_, c, _ := newAPI(t)
	ctx := context.Background()
	n := 0
	for _, err := range c.Updates(ctx, "Practitioner", c.now().Add(-31*24*time.Hour), nil) {
		assert.ErrorIs(t, err, ErrDeltaTooOld, "31 days")
		n++
	}
	for _, err := range c.Updates(ctx, "HealthcareService", c.now().Add(-time.Hour), nil) {
		assert.ErrorIs(t, err, ErrResourceType)
		n++
	}
	assert.Equal(t, 2, n, "each delta yields its error")
	var got []string
	for u, err := range c.Updates(ctx, "Practitioner", time.Date(2026, 8, 15, 0, 0, 0, 0, time.UTC), nil) {
		require.NoError(t, err)
		got = append(got, fmt.Sprintf("%s/%s deleted=%v %s", u.Type, u.ID, u.Deleted, u.LastUpdated.UTC().Format("01-02")))
	}
	want := []string{"Practitioner/003-1000000-0000009 deleted=true 08-22", "Practitioner/003-1000000-0000025 deleted=false 08-20"}
	slices.Sort(got)
	assert.Equal(t, want, got, "updates")
}

func TestWorkplaces(t *testing.T) {
	srv, c, _ := newAPI(t)
	var got []string
	for w, err := range c.Workplaces(context.Background(), OrganizationQuery{PostalCode: "13", City: "marseille"}) {
		require.NoError(t, err)
		for _, s := range w.Staff {
			name := "?"
			if s.Practitioner != nil {
				name = s.Practitioner.Person().Family
			}
			got = append(got, w.Organization.Name+": "+name+" "+s.Role.ID)
		}
	}
	assert.Equal(t, []string{"CENTRE HOSPITALIER D'EXEMPLE: FICTIF 005-1000000-0000025"}, got, "workplaces")
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "PractitionerRole:organization", reqs[0].Query.Get("_revinclude"))
	assert.Equal(t, "003-1000000-0000025", reqs[1].Query.Get("_id"))
}

// A redirect from the gateway is not followed, with the default client or
// one the caller gives: the API key would go along to the other host and
// its answer would be taken for the gateway's (found by a review: the
// other host received the key, and an address it made up was reported
// published).
func TestRedirectNotFollowed(t *testing.T) {
	var stolen []string
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen = append(stolen, r.Header.Get("ESANTE-API-KEY"))
		fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset","total":0,"entry":[]}`)
	}))
	defer evil.Close()
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)+"/steal", http.StatusFound)
	}))
	defer gw.Close()
	for _, hc := range []*http.Client{nil, {Timeout: 10 * time.Second}} {
		c := &Client{BaseURL: gw.URL + "/fhir/v2", APIKey: testKey, Limiter: NewLimiter(1e6), HTTPClient: hc}
		var errs []error
		for _, err := range c.Search(context.Background(), "Practitioner", nil) {
			if err != nil {
				errs = append(errs, err)
			}
		}
		require.Len(t, errs, 1, "client %v", hc)
		assert.ErrorIs(t, errs[0], ErrRedirect, "client %v", hc)
	}
	assert.Empty(t, stolen, "the other host received requests with these keys")
}

// A gateway that keeps sending new next links: the search stops after
// MaxPages with ErrBundle instead of running until its context ends.
func TestMaxPages(t *testing.T) {
	var hits int
	var ts *httptest.Server
	ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"%s/fhir/v2/Practitioner?page=%d"}],"entry":[]}`, ts.URL, hits)
	}))
	defer ts.Close()
	c := &Client{BaseURL: ts.URL + "/fhir/v2", APIKey: testKey, Limiter: NewLimiter(1e6), MaxPages: 5}
	var errs []error
	pages := 0
	for b, err := range c.Search(context.Background(), "Practitioner", nil) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if b != nil {
			pages++
		}
	}
	assert.Equal(t, 5, pages)
	assert.Equal(t, 5, hits, "requests")
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], ErrBundle)
	assert.Contains(t, errs[0].Error(), "more than 5 pages (MaxPages)")
}
