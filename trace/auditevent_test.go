// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateAuditEvent = flag.Bool("update-auditevent", false, "rewrite trace/testdata/auditevent golden files")

var _ Recorder = (*AuditEventWriter)(nil)

// aeTestEvent is a fixed event: an MSSanté send by a professional (IDNPS,
// CPS card) from a personal BAL.
func aeTestEvent(a Action) Event {
	return Event{
		ID:          "3f2a9c1e5b7d4a608e1f2b3c4d5e6f70",
		Time:        time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.FixedZone("CET", 3600)),
		Actor:       Actor{ID: "810100123456", IDType: "IDNPS", Name: "Jeanne DUPONT", Auth: AuthCPS},
		Mailbox:     Mailbox{Address: "jeanne.dupont@hopital-exemple.mssante.fr", Kind: "PER"},
		Action:      a,
		Request:     Request{Server: "smtp.hopital-exemple.mssante.fr:587", Command: "MAIL FROM", Params: []string{"<jeanne.dupont@hopital-exemple.mssante.fr>", "SIZE=48213"}},
		Response:    Response{OK: true, Code: "250", Text: "2.1.0 Ok"},
		MessageID:   "<20260314092653.4f1a@hopital-exemple.mssante.fr>",
		Correlation: "c0ffee01",
		Software:    "gomss-example/1.0",
	}
}

// aeDecode returns the AuditEvent of e as a generic JSON tree.
func aeDecode(t testing.TB, e Event) map[string]any {
	t.Helper()
	b, err := AuditEvent(e)
	require.NoError(t, err, "AuditEvent")
	if !json.Valid(b) {
		t.Fatalf("AuditEvent: invalid JSON: %s", b)
	}
	if bytes.ContainsAny(b, "\n") {
		t.Fatalf("AuditEvent: not compact (has a newline): %s", b)
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// aeAt follows a path of object keys (string) and array indexes (int).
func aeAt(v any, path ...any) (any, bool) {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			s, ok := v.([]any)
			if !ok || k < 0 || k >= len(s) {
				return nil, false
			}
			v = s[k]
		}
	}
	return v, true
}

func aeString(t testing.TB, v any, path ...any) string {
	t.Helper()
	x, ok := aeAt(v, path...)
	if !ok {
		t.Fatalf("missing %v", path)
	}
	s, ok := x.(string)
	if !ok || s == "" {
		t.Fatalf("%v = %#v, want a non-empty string", path, x)
	}
	return s
}

func aeLen(v any, path ...any) int {
	x, _ := aeAt(v, path...)
	s, _ := x.([]any)
	return len(s)
}

// aeEntityWith returns the entity whose what.identifier.value has the prefix.
func aeEntityWith(m map[string]any, prefix string) (map[string]any, bool) {
	for i := range aeLen(m, "entity") {
		v, _ := aeAt(m, "entity", i, "what", "identifier", "value")
		if s, ok := v.(string); ok && strings.HasPrefix(s, prefix) {
			en, _ := aeAt(m, "entity", i)
			return en.(map[string]any), true
		}
	}
	return nil, false
}

// aeDetails returns the request entity's details (the entity with role 24).
func aeDetails(m map[string]any) [][2]string {
	var out [][2]string
	for i := range aeLen(m, "entity") {
		if r, _ := aeAt(m, "entity", i, "role", "code"); r != "24" {
			continue
		}
		for j := range aeLen(m, "entity", i, "detail") {
			typ, _ := aeAt(m, "entity", i, "detail", j, "type")
			val, _ := aeAt(m, "entity", i, "detail", j, "valueString")
			ts, _ := typ.(string)
			vs, _ := val.(string)
			out = append(out, [2]string{ts, vs})
		}
	}
	return out
}

// aeCheckRequired asserts the elements base FHIR R4 AuditEvent and the TDE
// profile require, and returns nothing: it fails t.
func aeCheckRequired(t testing.TB, m map[string]any) {
	t.Helper()
	if aeString(t, m, "resourceType") != "AuditEvent" {
		t.Errorf("resourceType = %v", m["resourceType"])
	}
	if aeString(t, m, "meta", "profile", 0) != TDEProfile {
		t.Errorf("meta.profile = %v", m["meta"])
	}
	aeString(t, m, "type", "system")
	aeString(t, m, "type", "code")
	if n := aeLen(m, "subtype"); n > 1 {
		t.Errorf("subtype has %d codings, TDE allows 1", n)
	}
	start := aeString(t, m, "period", "start")
	if _, err := time.Parse(time.RFC3339Nano, start); err != nil {
		t.Errorf("period.start %q: %v", start, err)
	}
	rec := aeString(t, m, "recorded")
	if _, err := time.Parse(time.RFC3339Nano, rec); err != nil || !strings.HasSuffix(rec, "Z") {
		t.Errorf("recorded %q is not a UTC instant (%v)", rec, err)
	}
	// outcome is 0..1: absent on the record made before an action
	// (Response.Pending), else one of the FHIR codes.
	if o, ok := aeAt(m, "outcome"); ok {
		switch o {
		case "0", "4", "8", "12":
		default:
			t.Errorf("outcome %v", o)
		}
	}
	n := aeLen(m, "agent")
	if n < 1 || n > 2 {
		t.Fatalf("%d agents, want 1 or 2 (base 1..*, TDE ..2)", n)
	}
	requestors := 0
	for i := range n {
		who, ok := aeAt(m, "agent", i, "who")
		if !ok {
			t.Errorf("agent[%d].who missing (TDE 1..)", i)
		}
		_, hasID := aeAt(who, "identifier", "value")
		_, hasDisplay := aeAt(who, "display")
		if !hasID && !hasDisplay {
			t.Errorf("agent[%d].who is empty: %v", i, who)
		}
		r, ok := aeAt(m, "agent", i, "requestor")
		b, isBool := r.(bool)
		assert.True(t, ok, "agent[%d].requestor = %#v, want a boolean (1..1)", i, r)
		assert.True(t, isBool, "agent[%d].requestor = %#v, want a boolean (1..1)", i, r)
		if b {
			requestors++
		}
	}
	if requestors != 1 {
		t.Errorf("%d requestors, want exactly 1", requestors)
	}
	aeString(t, m, "source", "observer", "display")
}

func TestAuditEventActions(t *testing.T) {
	const dcm, rest = "http://dicom.nema.org/resources/ontology/DCM", "http://terminology.hl7.org/CodeSystem/audit-event-type"
	tests := []struct {
		action               Action
		typeSystem, typeCode string
		subSystem, subCode   string
		actionCode           string
	}{
		{Login, dcm, "110114", dcm, "110122", "E"},
		{Logout, dcm, "110114", dcm, "110123", "E"},
		{Send, dcm, "110106", ActionCodeSystem, "send", "R"},
		{MDNSent, dcm, "110106", ActionCodeSystem, "mdn-sent", "R"},
		{Fetch, dcm, "110107", ActionCodeSystem, "fetch", "C"},
		{DSNReceived, dcm, "110107", ActionCodeSystem, "dsn-received", "C"},
		{MDNReceived, dcm, "110107", ActionCodeSystem, "mdn-received", "C"},
		{Read, rest, "rest", ActionCodeSystem, "read", "R"},
		{Append, rest, "rest", ActionCodeSystem, "append", "C"},
		{Move, rest, "rest", ActionCodeSystem, "move", "U"},
		{MarkSeen, rest, "rest", ActionCodeSystem, "mark-seen", "U"},
		{Delete, rest, "rest", ActionCodeSystem, "delete", "D"},
		{DirectorySearch, dcm, "110112", ActionCodeSystem, "directory-search", "E"},
		{"imap idle", rest, "rest", ActionCodeSystem, "imap idle", "E"},
	}
	for _, tt := range tests {
		t.Run(string(tt.action), func(t *testing.T) {
			m := aeDecode(t, aeTestEvent(tt.action))
			aeCheckRequired(t, m)
			if got := aeString(t, m, "type", "system") + "#" + aeString(t, m, "type", "code"); got != tt.typeSystem+"#"+tt.typeCode {
				t.Errorf("type = %s, want %s#%s", got, tt.typeSystem, tt.typeCode)
			}
			if n := aeLen(m, "subtype"); n != 1 {
				t.Fatalf("%d subtypes, want 1", n)
			}
			if got := aeString(t, m, "subtype", 0, "system") + "#" + aeString(t, m, "subtype", 0, "code"); got != tt.subSystem+"#"+tt.subCode {
				t.Errorf("subtype = %s, want %s#%s", got, tt.subSystem, tt.subCode)
			}
			if got := aeString(t, m, "action"); got != tt.actionCode {
				t.Errorf("action = %s, want %s", got, tt.actionCode)
			}
			if n := aeLen(m, "agent"); n != 1 {
				t.Errorf("%d agents without OnBehalfOf, want 1", n)
			}
		})
	}
}

func TestAuditEventGolden(t *testing.T) {
	b, err := AuditEvent(aeTestEvent(Send))
	require.NoError(t, err)
	var got bytes.Buffer
	require.NoError(t, json.Indent(&got, b, "", "  "))
	got.WriteByte('\n')
	path := filepath.Join("testdata", "auditevent", "send.json")
	if *updateAuditEvent {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./trace -run TestAuditEventGolden -update-auditevent)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("AuditEvent differs from %s (rerun with -update-auditevent after review):\ngot:\n%s", path, got.Bytes())
	}
}

func TestAuditEventMapping(t *testing.T) {
	e := aeTestEvent(Send)
	m := aeDecode(t, e)
	if got := aeString(t, m, "id"); got != e.ID {
		t.Errorf("id = %s", got)
	}
	if got := aeString(t, m, "period", "start"); got != "2026-03-14T09:26:53.589793+01:00" {
		t.Errorf("period.start = %s, want the local time with its offset", got)
	}
	if got := aeString(t, m, "recorded"); got != "2026-03-14T08:26:53.589793Z" {
		t.Errorf("recorded = %s, want UTC", got)
	}
	if got := aeString(t, m, "outcome"); got != "0" {
		t.Errorf("outcome = %s, want 0", got)
	}
	if got := aeString(t, m, "outcomeDesc"); got != "250 2.1.0 Ok" {
		t.Errorf("outcomeDesc = %q", got)
	}
	if got := aeString(t, m, "agent", 0, "who", "identifier", "system"); got != "urn:oid:1.2.250.1.71.4.2.1" {
		t.Errorf("IDNPS system = %s", got)
	}
	if got := aeString(t, m, "agent", 0, "who", "display"); got != "Jeanne DUPONT" {
		t.Errorf("who.display = %s", got)
	}
	if got := aeString(t, m, "source", "observer", "display"); got != "gomss-example/1.0" {
		t.Errorf("observer = %s", got)
	}
	mb, ok := aeEntityWith(m, "mailto:")
	if !ok {
		t.Fatal("no mailbox entity")
	}
	if got := aeString(t, mb, "what", "identifier", "value"); got != "mailto:jeanne.dupont@hopital-exemple.mssante.fr" {
		t.Errorf("mailbox = %s", got)
	}
	msg, ok := aeEntityWith(m, "mid:")
	if !ok {
		t.Fatal("no message entity")
	}
	if got := aeString(t, msg, "what", "identifier", "value"); got != "mid:20260314092653.4f1a@hopital-exemple.mssante.fr" {
		t.Errorf("message = %s", got)
	}
	want := [][2]string{
		{"command", "MAIL FROM"},
		{"param", "<jeanne.dupont@hopital-exemple.mssante.fr>"},
		{"param", "SIZE=48213"},
		{"server", "smtp.hopital-exemple.mssante.fr:587"},
		{"auth-method", "CPS"},
		{"response-code", "250"},
		{"correlation", "c0ffee01"},
	}
	if got := aeDetails(m); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("request details = %v, want %v", got, want)
	}

	// No message, no mailbox: only the request entity; no software: gomss.
	e.MessageID, e.Mailbox, e.Software = "", Mailbox{}, ""
	m = aeDecode(t, e)
	aeCheckRequired(t, m)
	if n := aeLen(m, "entity"); n != 1 {
		t.Errorf("%d entities, want the request only", n)
	}
	if got := aeString(t, m, "source", "observer", "display"); got != "gomss" {
		t.Errorf("observer = %s", got)
	}
}

func TestAuditEventIdentifierSystems(t *testing.T) {
	tests := []struct {
		idType, system, typeCode, whoType string
	}{
		{"IDNPS", "urn:oid:1.2.250.1.71.4.2.1", "IDNPS", "Practitioner"},
		{"rpps", "https://rpps.esante.gouv.fr", "RPPS", "Practitioner"},
		{"IDNST", "urn:oid:1.2.250.1.71.4.2.2", "IDNST", "Organization"},
		{"CN", "", "", ""},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		e := aeTestEvent(Login)
		e.Actor.IDType = tt.idType
		m := aeDecode(t, e)
		aeCheckRequired(t, m)
		id, _ := aeAt(m, "agent", 0, "who", "identifier")
		if got, _ := aeAt(id, "system"); tt.system == "" && got != nil || tt.system != "" && got != tt.system {
			t.Errorf("%q: system = %v, want %q", tt.idType, got, tt.system)
		}
		if got, _ := aeAt(id, "type", "coding", 0, "code"); tt.typeCode != "" && got != tt.typeCode {
			t.Errorf("%q: identifier.type = %v, want %s", tt.idType, got, tt.typeCode)
		}
		if got, _ := aeAt(id, "type", "text"); tt.idType == "CN" && got != "CN" {
			t.Errorf("CN: identifier.type.text = %v", got)
		}
		if got, _ := aeAt(m, "agent", 0, "who", "type"); tt.whoType != "" && got != tt.whoType || tt.whoType == "" && got != nil {
			t.Errorf("%q: who.type = %v, want %q", tt.idType, got, tt.whoType)
		}
		if got := aeString(t, id, "value"); got != e.Actor.ID {
			t.Errorf("%q: value = %s", tt.idType, got)
		}
	}
}

func TestAuditEventOnBehalfOf(t *testing.T) {
	e := aeTestEvent(Send)
	e.Actor = Actor{ID: "1750000000/SIH-SERVEUR", IDType: "IDNST", Name: "Hôpital Exemple — BAL applicative", Auth: AuthCertificate}
	e.OnBehalfOf = &Actor{ID: "10001234567", IDType: "RPPS", Name: "Paul MARTIN"}
	m := aeDecode(t, e)
	aeCheckRequired(t, m)
	if n := aeLen(m, "agent"); n != 2 {
		t.Fatalf("%d agents, want 2", n)
	}
	if r, _ := aeAt(m, "agent", 0, "requestor"); r != false {
		t.Errorf("agent[0] (authenticated BAL holder) requestor = %v, want false", r)
	}
	if r, _ := aeAt(m, "agent", 1, "requestor"); r != true {
		t.Errorf("agent[1] (real user) requestor = %v, want true", r)
	}
	if got := aeString(t, m, "agent", 0, "who", "identifier", "system"); got != "urn:oid:1.2.250.1.71.4.2.2" {
		t.Errorf("agent[0] system = %s", got)
	}
	if got := aeString(t, m, "agent", 1, "who", "identifier", "value"); got != "10001234567" {
		t.Errorf("agent[1] value = %s", got)
	}
	if got := aeString(t, m, "agent", 1, "who", "identifier", "system"); got != "https://rpps.esante.gouv.fr" {
		t.Errorf("agent[1] system = %s", got)
	}
	if got := aeString(t, m, "agent", 1, "type", "coding", 0, "code"); got != "humanuser" {
		t.Errorf("agent[1] type = %s", got)
	}
	if got := aeString(t, m, "agent", 1, "name"); got != "Paul MARTIN" {
		t.Errorf("agent[1] name = %s", got)
	}
	if _, ok := aeAt(m, "agent", 0, "type"); ok {
		t.Error("agent[0] (a structure) has a human-user type")
	}

	// A real user known by name only: who.display, still two agents.
	e.OnBehalfOf = &Actor{Name: "Paul MARTIN"}
	m = aeDecode(t, e)
	aeCheckRequired(t, m)
	if got := aeString(t, m, "agent", 1, "who", "display"); got != "Paul MARTIN" {
		t.Errorf("agent[1].who.display = %s", got)
	}
	if _, ok := aeAt(m, "agent", 1, "who", "identifier"); ok {
		t.Error("agent[1] has an identifier with an empty value")
	}

	// The caller's event is left as it was (Normalize runs on a copy).
	ev := aeTestEvent(Send)
	ev.ID, ev.Time = "", time.Time{}
	if _, err := AuditEvent(ev); err != nil {
		t.Fatal(err)
	}
	assert.EqualValues(t, "", ev.ID, "AuditEvent changed its argument")
	assert.True(t, ev.Time.IsZero(), "AuditEvent changed its argument")
	assert.True(t, ev.UTC.IsZero(), "AuditEvent changed its argument")
}

func TestAuditEventOutcome(t *testing.T) {
	tests := []struct {
		resp        Response
		outcome     string
		outcomeDesc string
	}{
		{Response{OK: true, Code: "OK", Text: "UID MOVE completed"}, "0", "OK UID MOVE completed"},
		{Response{OK: false, Code: "550", Text: "5.7.1 Relaying denied"}, "4", "550 5.7.1 Relaying denied"},
		{Response{OK: false, Code: "NO", Text: "[TRYCREATE] no such mailbox"}, "4", "NO [TRYCREATE] no such mailbox"},
		{Response{OK: false, Text: "dial tcp: i/o timeout"}, "8", "dial tcp: i/o timeout"},
		{Response{OK: false, Text: "connection reset"}, "8", "connection reset"},
		{Response{OK: false}, "", ""}, // pending: no outcome yet
		{Response{OK: false, Text: PendingText}, "", "pending"},
	}
	for _, tt := range tests {
		e := aeTestEvent(Move)
		e.Response = tt.resp
		m := aeDecode(t, e)
		aeCheckRequired(t, m)
		if got, _ := aeAt(m, "outcome"); (got == nil && tt.outcome != "") || (got != nil && got != tt.outcome) {
			t.Errorf("%+v: outcome = %v, want %q", tt.resp, got, tt.outcome)
		}
		got, _ := aeAt(m, "outcomeDesc")
		if tt.outcomeDesc == "" && got != nil || tt.outcomeDesc != "" && got != tt.outcomeDesc {
			t.Errorf("%+v: outcomeDesc = %#v, want %q", tt.resp, got, tt.outcomeDesc)
		}
	}
}

func TestAuditEventTimes(t *testing.T) {
	e := aeTestEvent(Read)
	// Paris local mean time (+00:09:21) cannot be written as a FHIR offset:
	// UTC is written instead, the same instant.
	e.Time = time.Date(1900, 1, 1, 12, 0, 0, 0, time.FixedZone("LMT", 561))
	m := aeDecode(t, e)
	start := aeString(t, m, "period", "start")
	if got, err := time.Parse(time.RFC3339Nano, start); err != nil || !got.Equal(e.Time) {
		t.Errorf("period.start %s (%v) is not %v", start, err, e.Time)
	}
	e.Time = time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -(15*3600)))
	m = aeDecode(t, e)
	if start := aeString(t, m, "period", "start"); !strings.HasSuffix(start, "Z") {
		t.Errorf("offset -15:00 written: %s", start)
	}
	e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := AuditEvent(e); !errors.Is(err, ErrEvent) {
		t.Errorf("year 10000: err = %v, want ErrEvent", err)
	}
}

func TestAuditEventRefused(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Event)
		want   string
	}{
		{"multi-line param", func(e *Event) { e.Request.Params = []string{"line 1\r\nline 2"} }, "line break"},
		{"content-sized field", func(e *Event) { e.Response.Text = strings.Repeat("x", MaxField+1) }, "never carry content"},
		{"no actor", func(e *Event) { e.Actor.ID = "" }, "actor.id is required"},
		{"no command", func(e *Event) { e.Request.Command = "" }, "request.command is required"},
		{"not a FHIR id", func(e *Event) { e.ID = "event/1" }, "not a FHIR id"},
		{"long id", func(e *Event) { e.ID = strings.Repeat("a", 65) }, "not a FHIR id"},
		{"control character", func(e *Event) { e.Request.Params = []string{"a\x00b"} }, "control character"},
		{"not a FHIR code", func(e *Event) { e.Action = "two  spaces" }, "not a FHIR code"},
		{"multi-line idType of the real user", func(e *Event) { e.OnBehalfOf = &Actor{ID: "1", IDType: "a\nb"} }, "onBehalfOf.idType"},
		{"empty real user", func(e *Event) { e.OnBehalfOf = &Actor{} }, "neither id nor name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := aeTestEvent(Send)
			tt.modify(&e)
			b, err := AuditEvent(e)
			if !errors.Is(err, ErrEvent) {
				t.Fatalf("err = %v, want ErrEvent", err)
			}
			if b != nil {
				t.Errorf("output on error: %s", b)
			}
			assert.ErrorContains(t, err, tt.want, "the error names what is wrong")
			var buf bytes.Buffer
			if err := NewAuditEventWriter(&buf).Record(context.Background(), e); !errors.Is(err, ErrEvent) || buf.Len() != 0 {
				t.Errorf("Record: err = %v, wrote %q", err, buf.String())
			}
		})
	}
	// A tab is a legal FHIR string character.
	e := aeTestEvent(Send)
	e.Request.Params = []string{"a\tb"}
	if _, err := AuditEvent(e); err != nil {
		t.Errorf("tab refused: %v", err)
	}
}

func TestAuditEventWriterConcurrent(t *testing.T) {
	var buf bytes.Buffer // not safe for concurrent use: the writer must lock
	w := NewAuditEventWriter(&buf)
	const workers, each = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := aeTestEvent(Fetch)
				e.ID = fmt.Sprintf("g%d-i%d", g, i)
				e.Request.Params = []string{strings.Repeat("p", 100+i)}
				if err := w.Record(context.Background(), e); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		t.Fatal("output does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != workers*each {
		t.Fatalf("%d lines, want %d", len(lines), workers*each)
	}
	seen := map[string]bool{}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d: %v: %.80s", i, err, l)
		}
		aeCheckRequired(t, m)
		id := aeString(t, m, "id")
		if seen[id] {
			t.Errorf("id %s twice", id)
		}
		seen[id] = true
	}
}

type aeFailWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *aeFailWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, errDiskFull
}

type aeShortWriter struct{}

func (aeShortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestAuditEventWriterErrors(t *testing.T) {
	fw := &aeFailWriter{}
	err := NewAuditEventWriter(fw).Record(context.Background(), aeTestEvent(Delete))
	assert.ErrorIs(t, err, errDiskFull, "the writer's error is returned")
	if err := NewAuditEventWriter(aeShortWriter{}).Record(context.Background(), aeTestEvent(Delete)); err == nil {
		t.Error("short write not reported")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fw.n = 0
	if err := NewAuditEventWriter(fw).Record(ctx, aeTestEvent(Delete)); !errors.Is(err, context.Canceled) || fw.n != 0 {
		t.Errorf("cancelled context: err = %v, writes = %d", err, fw.n)
	}
	// Through a fail-closed Guard, a refused event refuses the action.
	g := &Guard{Recorder: NewAuditEventWriter(&bytes.Buffer{})}
	e := aeTestEvent(Delete)
	e.ID = "not/a/fhir/id"
	if err := g.Record(context.Background(), e); !errors.Is(err, ErrNotRecorded) || !errors.Is(err, ErrEvent) {
		t.Errorf("Guard: err = %v, want ErrNotRecorded and ErrEvent", err)
	}
}

func TestAuditEventBundle(t *testing.T) {
	a, b := aeTestEvent(Send), aeTestEvent(Delete)
	b.ID = "second"
	out, err := AuditEventBundle(BundleTransaction, a, b)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(out, &m))
	if aeString(t, m, "resourceType") != "Bundle" || aeString(t, m, "type") != "transaction" {
		t.Errorf("bundle header: %v %v", m["resourceType"], m["type"])
	}
	if n := aeLen(m, "entry"); n != 2 {
		t.Fatalf("%d entries", n)
	}
	for i, id := range []string{a.ID, b.ID} {
		res, _ := aeAt(m, "entry", i, "resource")
		aeCheckRequired(t, res.(map[string]any))
		if got := aeString(t, res, "id"); got != id {
			t.Errorf("entry %d id = %s, want %s", i, got, id)
		}
		if aeString(t, m, "entry", i, "request", "method") != "POST" || aeString(t, m, "entry", i, "request", "url") != "AuditEvent" {
			t.Errorf("entry %d request: %v", i, m["entry"])
		}
	}
	out, err = AuditEventBundle(BundleCollection, a)
	require.NoError(t, err)
	if bytes.Contains(out, []byte(`"request"`)) {
		t.Errorf("collection entries have a request: %s", out)
	}
	b.Request.Params = []string{"x\ny"}
	if _, err := AuditEventBundle(BundleTransaction, a, b); !errors.Is(err, ErrEvent) || !strings.Contains(err.Error(), "event 1") {
		t.Errorf("refused event: err = %v", err)
	}
	_, err = AuditEventBundle("batch", a)
	assert.Error(t, err, "bundle type batch accepted")
}

func FuzzAuditEvent(f *testing.F) {
	f.Add("3f2a9c1e", "810100123456", "IDNPS", "Jeanne DUPONT", "a@b.mssante.fr", "<x@y>", "SIZE=1", "", "gomss", "send", int64(1773476813), 60)
	f.Add("", "10001234567", "RPPS", "", "", "", "", "Paul", "", "mark-seen", int64(0), -300)
	f.Add("x", "é", "", "\t", "a%b?c@d", "a<b>", "% +", "1", "<s>", "x y", int64(-1), 9999)
	f.Fuzz(func(t *testing.T, id, actorID, idType, name, mailbox, msgID, param, obo, software, action string, sec int64, offMin int) {
		e := Event{
			ID:        id,
			Time:      time.Unix(sec%(1<<35), 0).In(time.FixedZone("", (offMin%1500)*60)),
			Actor:     Actor{ID: actorID, IDType: idType, Name: name},
			Mailbox:   Mailbox{Address: mailbox},
			Action:    Action(action),
			Request:   Request{Command: "CMD", Params: []string{param}},
			MessageID: msgID,
			Software:  software,
		}
		if obo != "" {
			e.OnBehalfOf = &Actor{ID: obo, IDType: "RPPS"}
		}
		b, err := AuditEvent(e)
		if err != nil {
			require.ErrorIs(t, err, ErrEvent, "error not wrapping ErrEvent")
			return
		}
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %q", b)
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		aeCheckRequired(t, m)
		if gotID := aeString(t, m, "id"); id != "" && gotID != id {
			t.Errorf("id %q, want %q", gotID, id)
		}
		if got := aeString(t, m, "agent", 0, "who", "identifier", "value"); got != actorID {
			t.Errorf("actor id %q, want %q", got, actorID)
		}
		if obo != "" {
			if got := aeString(t, m, "agent", 1, "who", "identifier", "value"); got != obo {
				t.Errorf("onBehalfOf id %q, want %q", got, obo)
			}
		}
		if mailbox != "" {
			en, ok := aeEntityWith(m, "mailto:")
			if !ok {
				t.Fatal("no mailbox entity")
			}
			got, err := url.PathUnescape(strings.TrimPrefix(aeString(t, en, "what", "identifier", "value"), "mailto:"))
			assert.NoError(t, err, "mailbox round trip")
			assert.EqualValues(t, mailbox, got, "mailbox round trip")
		}
		if msgID != "" {
			en, ok := aeEntityWith(m, "mid:")
			if !ok {
				t.Fatal("no message entity")
			}
			got, err := url.PathUnescape(strings.TrimPrefix(aeString(t, en, "what", "identifier", "value"), "mid:"))
			if err != nil || got != aeBareMessageID(msgID) {
				t.Errorf("Message-ID round trip: %q (%v), want %q", got, err, aeBareMessageID(msgID))
			}
		}
		if param != "" {
			found := false
			for _, d := range aeDetails(m) {
				found = found || d == [2]string{"param", param}
			}
			if !found {
				t.Errorf("param %q not in details %v", param, aeDetails(m))
			}
		}
		start, err := time.Parse(time.RFC3339Nano, aeString(t, m, "period", "start"))
		if err != nil || !start.Equal(e.Time) {
			t.Errorf("period.start %v (%v), want %v", start, err, e.Time)
		}
	})
}

func BenchmarkAuditEvent(b *testing.B) {
	e := aeTestEvent(Send)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AuditEvent(e); err != nil {
			b.Fatal(err)
		}
	}
}
