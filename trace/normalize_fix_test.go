// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/internal/fieldtext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Control characters other than tab are refused in every field, and the
// real user's idType and auth are checked like the other fields (found by
// a review: NUL, ESC, U+0085 passed, and a 13 KB onBehalfOf.idType with
// line breaks reached the log and broke a syslog frame).
func TestNormalizeRefusesControls(t *testing.T) {
	for _, bad := range []string{"a\x00b", "a\x1bb", "a\vb", "a\fb", "a\u0085b", "a\u2028b", "a\x7fb"} {
		e := sampleEvent()
		e.Response.Text = bad
		if err := e.Normalize(); !errors.Is(err, ErrEvent) || !strings.Contains(err.Error(), "control") {
			t.Errorf("response.text %q: %v", bad, err)
		}
	}
	e := sampleEvent()
	e.Response.Text = "a\tb, été"
	assert.NoError(t, e.Normalize(), "tab and accents")
	for _, set := range []func(a *Actor){
		func(a *Actor) { a.IDType = "IDNPS\nPAT-TROIS DOMINIQUE 279035121518989" },
		func(a *Actor) { a.IDType = strings.Repeat("x", MaxField+1) },
		func(a *Actor) { a.Auth = "CPS\r\nX" },
	} {
		e := sampleEvent()
		set(e.OnBehalfOf)
		assert.ErrorIs(t, e.Normalize(), ErrEvent, "onBehalfOf %+v accepted", *e.OnBehalfOf)
	}
}

// The record made before an action (Response.Pending) is neither a
// failure in syslog (informational, "no response yet") nor in FHIR (no
// outcome); a refusal stays a failure (found by a review: every pending
// record showed as a warning and as outcome 8).
func TestPendingIsNotAFailure(t *testing.T) {
	e := sampleEvent()
	e.Response = Response{Text: PendingText}
	require.NoError(t, e.Normalize())
	if got := severity(e.Response); got != SeverityInformational {
		t.Errorf("syslog severity of a pending record: %d", got)
	}
	if out := string(FormatSyslog(e, "h", "a", 0)); !strings.Contains(out, "no response yet") || strings.Contains(out, "failed") {
		t.Errorf("syslog: %s", out)
	}
	b, err := AuditEvent(e)
	require.NoError(t, err)
	var ae map[string]any
	require.NoError(t, json.Unmarshal(b, &ae))
	if _, ok := ae["outcome"]; ok {
		t.Errorf("a pending record has an outcome: %s", b)
	}
	e.Response = Response{Text: "connection reset"}
	if severity(e.Response) != SeverityWarning {
		t.Error("a failure without code is not a warning")
	}
	if b, _ := AuditEvent(e); !strings.Contains(string(b), `"outcome":"8"`) {
		t.Errorf("a failure without code: %s", b)
	}
}

// fieldtext.Clean (what bal applies to a server's reply before tracing it)
// makes any text acceptable to Normalize: the two share one definition.
func TestCleanTextNormalizes(t *testing.T) {
	for _, in := range []string{strings.Repeat("é", 400), "a\x00b\x1bc\u0085d\u2028e", "ok \xff\xfe end", "l1\r\nl2\tl3", ""} {
		for _, max := range []int{0, 7, 400, 10_000} {
			out := fieldtext.Clean(in, max)
			e := sampleEvent()
			e.Response.Text = out
			bound := max
			if bound <= 0 || bound > MaxField {
				bound = MaxField
			}
			if err := e.Normalize(); err != nil || len(out) > bound {
				t.Errorf("fieldtext.Clean(%.12q, %d) = %.24q (%d bytes): %v", in, max, out, len(out), err)
			}
		}
	}
}

// The problems of an event are listed in the order of its fields, the
// same at every call (they came in a map's random order).
func TestNormalizeProblemsInFieldOrder(t *testing.T) {
	var first string
	for i := range 20 {
		e := Event{Actor: Actor{ID: "810002813839", Name: "a\nb"}, Action: Send,
			Request: Request{Command: "DATA"}, Software: "x\x01", MessageID: "m\rn"}
		err := e.Normalize()
		require.ErrorIs(t, err, ErrEvent)
		msg := err.Error()
		a, m, s := strings.Index(msg, "actor.name"), strings.Index(msg, "messageId"), strings.Index(msg, "software")
		require.True(t, a >= 0 && m > a && s > m, "order: %s", msg)
		if i == 0 {
			first = msg
		}
		require.Equal(t, first, msg)
	}
}
