// SPDX-License-Identifier: Apache-2.0

package annuairetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Server is an in-process fake of the Annuaire Santé FHIR API v2 gateway,
// serving resources given as JSON. It reproduces the documented behaviour
// (ANS annuaire-sante-fhir-documentation, version-2 pages, and maintainers'
// answers in its issues):
//
//   - the ESANTE-API-KEY header is required (401 OperationOutcome without);
//   - GET [type]?… and POST [type]/_search with a form body; PUT and DELETE
//     answer 405; an unknown resource type 404 with HAPI-0302; an unknown
//     search parameter 400;
//   - searchset Bundles with total, 50 results per page by default,
//     "self" and opaque "next" links of the form [base]/_page?id=…;
//   - _count above 200 answers 502 Bad Gateway with a non-FHIR body (large
//     pages fail at the gateway, issue #372);
//   - a limit of RatePerSecond requests per second per key, answered with 429
//     and Retry-After: 1;
//   - search parameters _id, identifier, active, _lastUpdated (ge, gt, le,
//     lt, eq), mailbox-mss (starts with, :exact, :contains), family, given,
//     name, qualification-code, address-postalcode (starts with),
//     address-city, _include PractitionerRole:practitioner and
//     :organization, _revinclude PractitionerRole:organization and
//     PractitionerRole:practitioner; string searches ignore case and
//     accents, as FHIR string search does.
//
// FailNext queues forced answers (429, 502, 503…) to test retries.
type Server struct {
	*httptest.Server
	// APIKey is the key the server accepts.
	APIKey string
	// RatePerSecond is the per-key request limit (default 17; negative: none).
	RatePerSecond int

	mu        sync.Mutex
	resources []resource
	pages     map[string]*pageState
	forced    []Forced
	window    []time.Time
	requests  []Request
}

// Forced is an answer forced by FailNext.
type Forced struct {
	Status     int
	RetryAfter string // Retry-After header value, if any
}

// Request is one request the server received.
type Request struct {
	Method, Path string
	Query        url.Values // the search parameters (form body for POST)
	Status       int
	Time         time.Time
}

type resource struct {
	typ, id string
	raw     json.RawMessage
	obj     map[string]any
}

type pageState struct {
	entries []json.RawMessage
	total   int
	count   int
	self    string
}

// NewServer starts a fake API with the given resources (FHIR JSON
// resources, or Bundles whose entries are added). Close it when done.
func NewServer(apiKey string, resources ...[]byte) (*Server, error) {
	s := &Server{APIKey: apiKey, pages: map[string]*pageState{}}
	for i, r := range resources {
		if err := s.Add(r); err != nil {
			return nil, fmt.Errorf("annuairetest: resource %d: %w", i+1, err)
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s, nil
}

// BaseURL is the API root to give the client (URL + "/fhir/v2").
func (s *Server) BaseURL() string { return s.URL + "/fhir/v2" }

// Add adds a resource, or the entries of a Bundle.
func (s *Server) Add(data []byte) error {
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		return err
	}
	if obj["resourceType"] == "Bundle" {
		entries, _ := obj["entry"].([]any)
		for _, e := range entries {
			em, _ := e.(map[string]any)
			raw, err := json.Marshal(em["resource"])
			if err != nil {
				return err
			}
			if err := s.Add(raw); err != nil {
				return err
			}
		}
		return nil
	}
	typ, _ := obj["resourceType"].(string)
	id, _ := obj["id"].(string)
	if typ == "" || id == "" {
		return fmt.Errorf("no resourceType or id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resources = append(s.resources, resource{typ: typ, id: id, raw: append(json.RawMessage(nil), data...), obj: obj})
	return nil
}

// FailNext makes the next requests fail with these answers, in order.
func (s *Server) FailNext(f ...Forced) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced = append(s.forced, f...)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

var knownTypes = map[string]bool{"Practitioner": true, "PractitionerRole": true, "Organization": true, "HealthcareService": true, "Device": true}

var knownParams = map[string]map[string]bool{
	"Practitioner":     set("_id _lastUpdated active identifier mailbox-mss family given name qualification-code _revinclude"),
	"PractitionerRole": set("_id _lastUpdated active identifier mailbox-mss organization practitioner role _include"),
	"Organization":     set("_id _lastUpdated active identifier mailbox-mss name address-postalcode address-city _revinclude _include type"),
}

func set(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	s.handle(&logWriter{ResponseWriter: w, s: s, r: r}, r)
}

// logWriter records a request in the log when its status is written, so
// that a client that has read the answer finds the request logged.
type logWriter struct {
	http.ResponseWriter
	s      *Server
	r      *http.Request
	logged bool
}

func (lw *logWriter) WriteHeader(code int) {
	if !lw.logged {
		lw.logged = true
		lw.s.mu.Lock()
		lw.s.requests = append(lw.s.requests, Request{Method: lw.r.Method, Path: lw.r.URL.Path, Query: lw.r.Form, Status: code, Time: time.Now()})
		lw.s.mu.Unlock()
	}
	lw.ResponseWriter.WriteHeader(code)
}

func (lw *logWriter) Write(b []byte) (int, error) {
	if !lw.logged {
		lw.WriteHeader(http.StatusOK)
	}
	return lw.ResponseWriter.Write(b)
}

func outcome(w http.ResponseWriter, status int, code, diag string) int {
	w.Header().Set("Content-Type", "application/fhir+json;charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"resourceType": "OperationOutcome",
		"issue":        []any{map[string]any{"severity": "error", "code": code, "diagnostics": diag}},
	})
	return status
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) int {
	if r.Header.Get("ESANTE-API-KEY") != s.APIKey || s.APIKey == "" {
		return outcome(w, http.StatusUnauthorized, "security", "No API key found in request")
	}
	s.mu.Lock()
	if len(s.forced) > 0 {
		f := s.forced[0]
		s.forced = s.forced[1:]
		s.mu.Unlock()
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.Status == http.StatusBadGateway || f.Status == http.StatusGatewayTimeout {
			w.WriteHeader(f.Status)
			fmt.Fprintln(w, http.StatusText(f.Status))
			return f.Status
		}
		return outcome(w, f.Status, "transient", http.StatusText(f.Status))
	}
	rate := s.RatePerSecond
	if rate == 0 {
		rate = 17
	}
	now := time.Now()
	if rate > 0 {
		keep := s.window[:0]
		for _, t := range s.window {
			if now.Sub(t) < time.Second {
				keep = append(keep, t)
			}
		}
		s.window = keep
		if len(s.window) >= rate {
			s.mu.Unlock()
			w.Header().Set("Retry-After", "1")
			return outcome(w, http.StatusTooManyRequests, "throttled", "API rate limit exceeded")
		}
		s.window = append(s.window, now)
	}
	s.mu.Unlock()

	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return outcome(w, http.StatusMethodNotAllowed, "not-supported", "Method "+r.Method+" is not allowed")
	}
	if err := r.ParseForm(); err != nil {
		return outcome(w, http.StatusBadRequest, "invalid", err.Error())
	}
	path := strings.TrimPrefix(r.URL.Path, "/fhir/v2/")
	if path == "_page" {
		return s.page(w, r.Form.Get("id"))
	}
	typ := path
	if r.Method == http.MethodPost {
		t, ok := strings.CutSuffix(path, "/_search")
		if !ok {
			return outcome(w, http.StatusMethodNotAllowed, "not-supported", "POST is only allowed on [type]/_search")
		}
		typ = t
	}
	if !knownTypes[typ] {
		return outcome(w, http.StatusNotFound, "processing", fmt.Sprintf("HAPI-0302: Unknown resource type '%s' - Server knows how to handle: [Practitioner, PractitionerRole, Device, Organization, HealthcareService]", typ))
	}
	count := 50
	if c := r.Form.Get("_count"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return outcome(w, http.StatusBadRequest, "invalid", "Invalid _count "+c)
		}
		if n > 200 {
			// The gateway times out on large pages.
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintln(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
			return http.StatusBadGateway
		}
		count = n
	}
	params := map[string][]string{}
	for k, v := range r.Form {
		if k == "_count" || k == "_total" || k == "_elements" {
			continue
		}
		name, _, _ := strings.Cut(k, ":")
		if !knownParams[typ][name] {
			return outcome(w, http.StatusBadRequest, "processing", fmt.Sprintf("HAPI-0524: Unknown search parameter \"%s\" for resource type \"%s\"", k, typ))
		}
		params[k] = v
	}
	s.mu.Lock()
	var matches []resource
	for _, res := range s.resources {
		if res.typ == typ && matchAll(res, params) {
			matches = append(matches, res)
		}
	}
	var entries []json.RawMessage
	for _, m := range matches {
		entries = append(entries, entry(s.BaseURL(), m, "match"))
	}
	entries = append(entries, s.includes(matches, params)...)
	id := newPageID()
	s.pages[id] = &pageState{entries: entries, total: len(matches), count: count, self: r.URL.String()}
	s.mu.Unlock()
	return s.page(w, id)
}

func newPageID() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func entry(base string, r resource, mode string) json.RawMessage {
	e, _ := json.Marshal(map[string]any{
		"fullUrl":  base + "/" + r.typ + "/" + r.id,
		"resource": r.raw,
		"search":   map[string]any{"mode": mode},
	})
	return e
}

// page answers one page of a stored result and stores the rest under a
// new opaque id.
func (s *Server) page(w http.ResponseWriter, id string) int {
	s.mu.Lock()
	p, ok := s.pages[id]
	if ok {
		delete(s.pages, id)
	}
	s.mu.Unlock()
	if !ok {
		return outcome(w, http.StatusGone, "not-found", "HAPI-0417: Search id '"+id+"' does not exist and may have expired")
	}
	n := min(p.count, len(p.entries))
	if p.count == 0 {
		n = 0
	}
	links := []any{map[string]any{"relation": "self", "url": s.URL + p.self}}
	if n < len(p.entries) && n > 0 {
		next := newPageID()
		s.mu.Lock()
		s.pages[next] = &pageState{entries: p.entries[n:], total: p.total, count: p.count, self: p.self}
		s.mu.Unlock()
		links = append([]any{map[string]any{"relation": "next", "url": s.BaseURL() + "/_page?id=" + next}}, links...)
	}
	w.Header().Set("Content-Type", "application/fhir+json;charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{
		"resourceType": "Bundle",
		"id":           newPageID()[:16],
		"type":         "searchset",
		"total":        p.total,
		"link":         links,
		"entry":        p.entries[:n],
	})
	return http.StatusOK
}

// includes returns the _include/_revinclude entries of a result.
func (s *Server) includes(matches []resource, params map[string][]string) []json.RawMessage {
	var out []json.RawMessage
	seen := map[string]bool{}
	add := func(r resource) {
		if k := r.typ + "/" + r.id; !seen[k] {
			seen[k] = true
			out = append(out, entry(s.BaseURL(), r, "include"))
		}
	}
	for _, inc := range params["_include"] {
		field := map[string]string{"PractitionerRole:practitioner": "practitioner", "PractitionerRole:organization": "organization"}[inc]
		for _, m := range matches {
			ref, _ := m.obj[field].(map[string]any)
			target, _ := ref["reference"].(string)
			for _, r := range s.resources {
				if target != "" && r.typ+"/"+r.id == target {
					add(r)
				}
			}
		}
	}
	for _, inc := range params["_revinclude"] {
		field := map[string]string{"PractitionerRole:practitioner": "practitioner", "PractitionerRole:organization": "organization"}[inc]
		for _, m := range matches {
			for _, r := range s.resources {
				if r.typ != "PractitionerRole" {
					continue
				}
				ref, _ := r.obj[field].(map[string]any)
				if target, _ := ref["reference"].(string); target == m.typ+"/"+m.id {
					add(r)
				}
			}
		}
	}
	return out
}

// accents maps the accented lower-case letters of French to their base.
var accents = strings.NewReplacer("à", "a", "â", "a", "ä", "a", "á", "a", "ã", "a", "å", "a", "ç", "c",
	"é", "e", "è", "e", "ê", "e", "ë", "e", "î", "i", "ï", "i", "í", "i", "ì", "i", "ô", "o", "ö", "o",
	"ó", "o", "ò", "o", "õ", "o", "ù", "u", "û", "u", "ü", "u", "ú", "u", "ÿ", "y", "ñ", "n",
	"œ", "oe", "æ", "ae")

// fold lower-cases and strips the accents of French letters, as FHIR
// string search compares.
func fold(s string) string {
	return accents.Replace(strings.Map(unicode.ToLower, s))
}

func matchAll(r resource, params map[string][]string) bool {
	for k, vals := range params {
		name, mod, _ := strings.Cut(k, ":")
		if strings.HasPrefix(name, "_include") || strings.HasPrefix(name, "_revinclude") {
			continue
		}
		for _, v := range vals { // repeated parameter: AND
			ok := false
			for _, alt := range strings.Split(v, ",") { // comma: OR
				if matchOne(r, name, mod, alt) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

func strMatch(have, want, mod string) bool {
	switch mod {
	case "exact":
		return have == want
	case "contains":
		return strings.Contains(fold(have), fold(want))
	}
	return strings.HasPrefix(fold(have), fold(want))
}

func list(v any) []any { l, _ := v.([]any); return l }
func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
func str(v any) string { s, _ := v.(string); return s }

func matchOne(r resource, name, mod, want string) bool {
	o := r.obj
	switch name {
	case "_id":
		return r.id == want
	case "active":
		a, ok := o["active"].(bool)
		return (!ok || a) == (want == "true")
	case "identifier":
		sys, val, hasSys := strings.Cut(want, "|")
		if !hasSys {
			val = want
		}
		for _, id := range list(o["identifier"]) {
			m := obj(id)
			if (!hasSys || str(m["system"]) == sys) && (val == "" || str(m["value"]) == val) {
				return true
			}
		}
	case "mailbox-mss":
		for _, t := range list(o["telecom"]) {
			if strMatch(str(obj(t)["value"]), want, mod) {
				return true
			}
		}
		for _, e := range list(o["extension"]) {
			if strings.HasSuffix(strings.ToLower(str(obj(e)["url"])), "/mailboxmss") {
				for _, sub := range list(obj(e)["extension"]) {
					if str(obj(sub)["url"]) == "value" && strMatch(str(obj(sub)["valueString"]), want, mod) {
						return true
					}
				}
			}
		}
	case "family", "given", "name":
		for _, n := range list(o["name"]) {
			nm := obj(n)
			var cands []string
			if name != "given" {
				cands = append(cands, str(nm["family"]))
			}
			if name != "family" {
				for _, g := range list(nm["given"]) {
					cands = append(cands, str(g))
				}
			}
			for _, c := range cands {
				if strMatch(c, want, mod) {
					return true
				}
			}
		}
		if name == "name" && r.typ == "Organization" {
			return strMatch(str(o["name"]), want, mod)
		}
	case "qualification-code":
		sys, code, hasSys := strings.Cut(want, "|")
		if !hasSys {
			code = want
		}
		for _, q := range list(o["qualification"]) {
			for _, c := range list(obj(obj(q)["code"])["coding"]) {
				cm := obj(c)
				if str(cm["code"]) == code && (!hasSys || str(cm["system"]) == sys) {
					return true
				}
			}
		}
	case "address-postalcode", "address-city":
		field := map[string]string{"address-postalcode": "postalCode", "address-city": "city"}[name]
		for _, a := range list(o["address"]) {
			if strMatch(str(obj(a)[field]), want, mod) {
				return true
			}
		}
	case "organization", "practitioner":
		ref := str(obj(o[name])["reference"])
		return ref == want || strings.HasSuffix(ref, "/"+want)
	case "_lastUpdated":
		return matchDate(str(obj(o["meta"])["lastUpdated"]), want)
	case "type", "role":
		return true
	}
	return false
}

func matchDate(have, want string) bool {
	t, err := time.Parse(time.RFC3339Nano, have)
	if err != nil {
		return false
	}
	prefix := "eq"
	if len(want) > 2 && want[0] >= 'a' && want[0] <= 'z' {
		prefix, want = want[:2], want[2:]
	}
	var w time.Time
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z", "2006-01-02"} {
		if w, err = time.Parse(layout, want); err == nil {
			break
		}
	}
	if err != nil {
		return false
	}
	switch prefix {
	case "ge":
		return !t.Before(w)
	case "gt":
		return t.After(w)
	case "le":
		return !t.After(w)
	case "lt":
		return t.Before(w)
	}
	return t.Equal(w)
}
