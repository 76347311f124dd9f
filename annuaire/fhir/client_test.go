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
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v", err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// newAPI starts the fake API with the fixtures and returns a client of it
// whose waits (backoff, Retry-After) are recorded instead of slept.
func newAPI(t *testing.T, extra ...[]byte) (*annuairetest.Server, *Client, *[]time.Duration) {
	t.Helper()
	srv, err := annuairetest.NewServer(testKey, append(fhirFixtures(t), extra...)...)
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestFHIRMailboxes(t *testing.T) {
	var p Practitioner
	decodeFixture(t, "practitioner.json", &p)
	ms := p.Mailboxes()
	if len(ms) != 1 {
		t.Fatalf("practitioner: %d mailboxes", len(ms))
	}
	want := annuaire.Mailbox{Address: "heloise.fictif@medecin.mssante.fr", Type: annuaire.PER, Service: "Cardiologie", Digitization: annuaire.DigitizationAccepted,
		Owner: annuaire.Person{IDType: "8", ID: "10000000025", IDNPS: "810000000025", Civility: "DR", Family: "FICTIF", Given: "Héloïse",
			Category: annuaire.Code{Code: "C", Label: "Civil"}, Profession: annuaire.Code{Code: "10", Label: "Médecin"}, Specialty: annuaire.Code{Code: "SM04", Label: "Cardiologie et maladies vasculaires"}},
		Source: annuaire.FromAPI, Resource: "Practitioner/003-1000000-0000025"}
	if ms[0] != want {
		t.Errorf("practitioner mailbox\n got %+v\nwant %+v", ms[0], want)
	}

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
	if !slices.Equal(got, wantOrg) {
		t.Errorf("organization mailboxes (the contact e-mail is not one):\n got %q\nwant %q", got, wantOrg)
	}

	var v1 Practitioner
	decodeFixture(t, "practitioner-v1.json", &v1)
	ms = v1.Mailboxes()
	if len(ms) != 1 || ms[0].Address != "jeanne.exemple@medecin.mssante.fr" || ms[0].Type != annuaire.CAB || ms[0].Digitization != annuaire.DigitizationRefused ||
		ms[0].Owner.ID != "10000000017" || ms[0].Owner.Profession.Code != "10" {
		t.Errorf("v1 MailboxMSS extension: %+v", ms)
	}

	var r PractitionerRole
	decodeFixture(t, "practitionerrole.json", &r)
	ms = r.Mailboxes()
	if len(ms) != 1 || ms[0].Type != annuaire.PER || ms[0].Owner.Profession.Code != "10" || ms[0].Digitization != annuaire.DigitizationRefused {
		t.Errorf("role mailboxes: %+v", ms)
	}
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
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		got := ""
		if len(ms) > 0 {
			m := ms[0]
			got = fmt.Sprintf("%s %s %s %s %s %s %s", m.Type, m.Resource, m.Owner.Family, m.Owner.Given, m.Owner.IDNPS, m.Owner.Profession.Code, m.Structure.Name)
		}
		if got != tc.want || len(ms) > 1 {
			t.Errorf("ResolveMailbox(%s) = %q (%d), want %q", tc.addr, got, len(ms), tc.want)
		}
	}
	for _, r := range srv.Requests() {
		if r.Status != http.StatusOK {
			t.Errorf("request %s %s: status %d", r.Method, r.Path, r.Status)
		}
	}
	if _, err := c.ResolveMailbox(ctx, "not-an-address"); !errors.Is(err, annuaire.ErrAddress) {
		t.Errorf("bad address: %v", err)
	}
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
		b, _ := json.Marshal(p)
		out = append(out, b)
	}
	return out
}

func TestPaging(t *testing.T) {
	srv, c, _ := newAPI(t, generatedPractitioners(123)...)
	c.PageSize = 50
	var ids []string
	for p, err := range c.Practitioners(context.Background(), PractitionerQuery{Qualification: "60"}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	if len(ids) != 123 || ids[0] != "003-0000000" || ids[122] != "003-0000122" {
		t.Fatalf("%d practitioners (%v…)", len(ids), ids[:min(3, len(ids))])
	}
	reqs := srv.Requests()
	if len(reqs) != 3 || reqs[1].Path != "/fhir/v2/_page" || reqs[0].Query.Get("_count") != "50" {
		t.Errorf("requests %+v, want a search then two _page", reqs)
	}
	// Stopping early sends no more requests.
	n := len(srv.Requests())
	for range c.Practitioners(context.Background(), PractitionerQuery{Qualification: "60"}) {
		break
	}
	if got := len(srv.Requests()) - n; got != 1 {
		t.Errorf("breaking after the first result sent %d requests, want 1", got)
	}
	// Page size rules: above 200 is refused before any request.
	c.PageSize = 500
	n = len(srv.Requests())
	for _, err := range c.Practitioners(context.Background(), PractitionerQuery{}) {
		if !errors.Is(err, ErrPageSize) {
			t.Errorf("PageSize 500: %v, want ErrPageSize", err)
		}
	}
	for _, err := range c.Search(context.Background(), "Practitioner", url.Values{"_count": {"1000"}}) {
		if !errors.Is(err, ErrPageSize) {
			t.Errorf("_count 1000: %v, want ErrPageSize", err)
		}
	}
	if len(srv.Requests()) != n {
		t.Error("a request was sent with a page size above 200")
	}
	// The fake answers large pages as the gateway does: 502, not FHIR.
	req, _ := http.NewRequest("GET", srv.BaseURL()+"/Practitioner?_count=1000", nil)
	req.Header.Set("ESANTE-API-KEY", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("fake with _count=1000: %d, want 502", resp.StatusCode)
	}
}

func TestPOSTSearch(t *testing.T) {
	srv, c, _ := newAPI(t, generatedPractitioners(5)...)
	c.MaxURL = 10
	var n int
	for p, err := range c.Practitioners(context.Background(), PractitionerQuery{Qualification: "60", Family: "page"}) {
		if err != nil {
			t.Fatal(err)
		}
		if p.Person().Family != "PAGE" {
			t.Errorf("%+v", p.Person())
		}
		n++
	}
	reqs := srv.Requests()
	if n != 5 || len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "/fhir/v2/Practitioner/_search" {
		t.Errorf("%d results, requests %+v; want 5 by one POST _search", n, reqs)
	}
}

func TestRetries(t *testing.T) {
	srv, c, waits := newAPI(t)
	srv.FailNext(annuairetest.Forced{Status: 429, RetryAfter: "3"}, annuairetest.Forced{Status: 502}, annuairetest.Forced{Status: 503}, annuairetest.Forced{Status: 504})
	ms, err := c.ResolveMailbox(context.Background(), "secretariat.cardio@ch-exemple.mssante.fr")
	if err != nil || len(ms) != 1 {
		t.Fatalf("after 4 transient failures: %v %v", ms, err)
	}
	if len(*waits) != 4 || (*waits)[0] != 3*time.Second {
		t.Errorf("waits %v: want 4, the first the Retry-After of 3 s", *waits)
	}
	for i, w := range (*waits)[1:] {
		base := 10 * time.Millisecond << (i + 1)
		if w > base || w < base*3/4 {
			t.Errorf("backoff %d = %v, want within [%v, %v]", i+2, w, base*3/4, base)
		}
	}

	// Retries exhausted: the last error is returned.
	*waits = nil
	c2 := &Client{BaseURL: c.BaseURL, APIKey: testKey, MaxRetries: 2, Limiter: c.Limiter, now: c.now, wait: c.wait}
	srv.FailNext(annuairetest.Forced{Status: 503}, annuairetest.Forced{Status: 503}, annuairetest.Forced{Status: 503})
	_, err = c2.ResolveMailbox(context.Background(), "dpi@ch-exemple.mssante.fr")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 || len(*waits) != 2 {
		t.Errorf("exhausted: %v after %d waits", err, len(*waits))
	}

	// A Retry-After longer than MaxRetryAfter is not waited for.
	*waits = nil
	srv.FailNext(annuairetest.Forced{Status: 429, RetryAfter: "3600"})
	_, err = c.ResolveMailbox(context.Background(), "dpi@ch-exemple.mssante.fr")
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter != time.Hour || len(*waits) != 0 {
		t.Errorf("long Retry-After: %v, waits %v", err, *waits)
	}

	// The fake's own limit: the request over RatePerSecond in a second
	// gets 429 with Retry-After: 1.
	srv.RatePerSecond = 3
	var statuses []int
	for i := 0; i < 4; i++ {
		req, _ := http.NewRequest("GET", srv.BaseURL()+"/Organization", nil)
		req.Header.Set("ESANTE-API-KEY", testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		if i == 3 && resp.Header.Get("Retry-After") != "1" {
			t.Errorf("429 without Retry-After: 1: %v", resp.Header)
		}
	}
	if !slices.Equal(statuses, []int{200, 200, 200, 429}) {
		t.Errorf("fake rate limit: %v", statuses)
	}
}

func TestAPIErrors(t *testing.T) {
	srv, c, waits := newAPI(t)
	ctx := context.Background()
	check := func(name string, err error, status int, diag string) {
		t.Helper()
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != status {
			t.Fatalf("%s: %v, want status %d", name, err, status)
		}
		if !strings.Contains(ae.Error(), diag) {
			t.Errorf("%s: %q does not say %q", name, ae.Error(), diag)
		}
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
	if len(*waits) != 0 {
		t.Errorf("4xx answers were retried: waits %v", *waits)
	}
	for _, r := range srv.Requests() {
		if r.Status == http.StatusOK {
			t.Errorf("unexpected success %+v", r)
		}
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
	if len(errs) != 1 || !errors.Is(errs[0], ErrBundle) || !strings.Contains(errs[0].Error(), "leak") || hits != 1 {
		t.Errorf("errors %v, hits %d", errs, hits)
	}
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
	for _, err := range c.Search(context.Background(), "Practitioner", nil) {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("timeout: %v, want DeadlineExceeded", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.Timeout = time.Minute
	for _, err := range c.Search(ctx, "Practitioner", nil) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}
	}
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
	for _, err := range c.Updates(ctx, "Practitioner", c.now().Add(-31*24*time.Hour), nil) {
		if !errors.Is(err, ErrDeltaTooOld) {
			t.Errorf("31 days: %v, want ErrDeltaTooOld", err)
		}
	}
	var got []string
	for u, err := range c.Updates(ctx, "Practitioner", time.Date(2026, 8, 15, 0, 0, 0, 0, time.UTC), nil) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s/%s deleted=%v %s", u.Type, u.ID, u.Deleted, u.LastUpdated.UTC().Format("01-02")))
	}
	want := []string{"Practitioner/003-1000000-0000009 deleted=true 08-22", "Practitioner/003-1000000-0000025 deleted=false 08-20"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("updates %q, want %q", got, want)
	}
}

func TestWorkplaces(t *testing.T) {
	srv, c, _ := newAPI(t)
	var got []string
	for w, err := range c.Workplaces(context.Background(), OrganizationQuery{PostalCode: "13", City: "marseille"}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range w.Staff {
			name := "?"
			if s.Practitioner != nil {
				name = s.Practitioner.Person().Family
			}
			got = append(got, w.Organization.Name+": "+name+" "+s.Role.ID)
		}
	}
	if !slices.Equal(got, []string{"CENTRE HOSPITALIER D'EXEMPLE: FICTIF 005-1000000-0000025"}) {
		t.Errorf("workplaces %q", got)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Query.Get("_revinclude") != "PractitionerRole:organization" || reqs[1].Query.Get("_id") != "003-1000000-0000025" {
		t.Errorf("requests %+v", reqs)
	}
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
		if len(errs) != 1 || !errors.Is(errs[0], ErrRedirect) {
			t.Errorf("client %v: errors %v, want ErrRedirect", hc, errs)
		}
	}
	if len(stolen) != 0 {
		t.Errorf("the other host received %d request(s), keys %q", len(stolen), stolen)
	}
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
	if pages != 5 || hits != 5 || len(errs) != 1 || !errors.Is(errs[0], ErrBundle) || !strings.Contains(errs[0].Error(), "MaxPages") {
		t.Errorf("%d pages, %d requests, errors %v", pages, hits, errs)
	}
}
