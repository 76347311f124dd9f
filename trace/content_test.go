// SPDX-License-Identifier: Apache-2.0

package trace_test

import (
	"encoding/base64"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/trace"
	"github.com/stretchr/testify/assert"
)

// No message body, attachment or document content can reach an event:
// the event has no field meant for content, and Normalize (which every
// recorder applies) refuses any value shaped like content.
func TestNoContentInEvents(t *testing.T) {
	// 1. The fields of an event are exactly these, all names, codes or
	// identifiers: adding a field (a "Body", an "Attachment") must be a
	// deliberate change of this list.
	var fields []string
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft == reflect.TypeOf(time.Time{}):
				fields = append(fields, prefix+f.Name)
			case ft.Kind() == reflect.Struct:
				walk(prefix+f.Name+".", ft)
			case ft.Kind() == reflect.String, ft.Kind() == reflect.Bool:
				fields = append(fields, prefix+f.Name)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
				fields = append(fields, prefix+f.Name+"[]")
			default:
				t.Errorf("field %s%s has type %s: an event carries only names, codes and identifiers", prefix, f.Name, f.Type)
			}
		}
	}
	walk("", reflect.TypeOf(trace.Event{}))
	sort.Strings(fields)
	want := "Action Actor.Auth Actor.ID Actor.IDType Actor.Name Correlation ID Mailbox.Address Mailbox.Kind MessageID " +
		"OnBehalfOf.Auth OnBehalfOf.ID OnBehalfOf.IDType OnBehalfOf.Name Request.Command Request.Params[] Request.Server " +
		"Response.Code Response.OK Response.Text Software Time UTC"
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("event fields changed:\n got %s\nwant %s", got, want)
	}

	// 2. Content in any field is refused.
	body := "Bonjour,\r\nveuillez trouver ci-joint le compte rendu de Mme PAT-TROIS.\r\nBien à vous.\r\n"
	pdf := strings.Repeat("%PDF-1.4 binary", 100)
	attachment := base64.StdEncoding.EncodeToString([]byte(pdf))
	var wrapped strings.Builder
	for i := 0; i < len(attachment); i += 76 {
		wrapped.WriteString(attachment[i:min(i+76, len(attachment))] + "\r\n")
	}
	cda := `<?xml version="1.0"?>` + "\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\n<title>CR</title>\n</ClinicalDocument>\n"
	for name, content := range map[string]string{
		"body": body, "attachment (MIME lines)": wrapped.String(), "attachment (one line)": attachment, "CDA document": cda,
	} {
		for field, set := range map[string]func(e *trace.Event, s string){
			"param":         func(e *trace.Event, s string) { e.Request.Params = []string{s} },
			"command":       func(e *trace.Event, s string) { e.Request.Command = s },
			"response text": func(e *trace.Event, s string) { e.Response.Text = s },
			"message id":    func(e *trace.Event, s string) { e.MessageID = s },
			"correlation":   func(e *trace.Event, s string) { e.Correlation = s },
			"actor name":    func(e *trace.Event, s string) { e.Actor.Name = s },
		} {
			e := event(1)
			set(&e, content)
			assert.ErrorIs(t, e.Normalize(), trace.ErrEvent, "%s in %s accepted", name, field)
		}
	}
}
