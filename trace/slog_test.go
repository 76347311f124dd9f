// SPDX-License-Identifier: Apache-2.0

package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/ecdaf744/gomss/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSlogRecorder(t *testing.T) {
	var buf bytes.Buffer
	r := trace.NewSlogRecorder(slog.NewJSONHandler(&buf, nil))
	e := event(3)
	e.Response = trace.Response{OK: false, Code: "550", Text: "5.1.1 unknown"}
	e.OnBehalfOf = &trace.Actor{ID: "801234567893", Name: "Roberta BLEEDER"}
	require.NoError(t, r.Record(context.Background(), e))
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	actor := m["actor"].(map[string]any)
	req := m["request"].(map[string]any)
	if m["level"] != "WARN" || m["msg"] != "mssante send" || actor["id"] != "801234567890" || actor["auth"] != "CPS" ||
		req["command"] != "RCPT TO" || m["onBehalfOf"].(map[string]any)["id"] != "801234567893" || m["messageId"] != "<3@lilas.mssante.fr>" {
		t.Errorf("%s", buf.Bytes())
	}
	// Normalize applies: content is refused.
	e.Request.Params = []string{"line 1\nline 2"}
	assert.Error(t, r.Record(context.Background(), e), "multi-line parameter accepted")
	// A handler that does not log Info drops successful events.
	buf.Reset()
	r = trace.NewSlogRecorder(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	r.Record(context.Background(), event(1))
	if buf.Len() != 0 {
		t.Errorf("Info event written at level Warn: %s", buf.Bytes())
	}
}
