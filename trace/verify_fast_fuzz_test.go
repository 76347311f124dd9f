// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzScanRecord checks the fast reading of a record line against its
// definition: scanRecord never panics, and every line it reads the
// decoder (encoding/json, unknown fields refused) accepts too, with the
// same sequence number, chain hash and UTC time. So Verify with
// scanRecord refuses every line it refused before, for the same reasons
// (the lines scanRecord does not read go to the decoder).
func FuzzScanRecord(f *testing.F) {
	e := flEvent(4)
	if err := e.Normalize(); err != nil {
		f.Fatal(err)
	}
	e.OnBehalfOf = &Actor{ID: "1", Name: "Hélène & <fils>"}
	line, err := json.Marshal(recordLine{Seq: 4, Prev: lineHash([]byte("x")), Event: &e})
	if err != nil {
		f.Fatal(err)
	}
	w := string(line)
	f.Add(line)
	f.Add([]byte(strings.Replace(w, `"seq":4,`, `"seq": 4,`, 1)))
	f.Add([]byte(strings.Replace(w, `"ok":true`, `"ok":null`, 1)))
	f.Add([]byte(strings.Replace(w, `"seq":4`, `"seq":-0`, 1)))
	f.Add([]byte(strings.Replace(w, `"seq":4`, `"seq":4.5e1`, 1)))
	f.Add([]byte(strings.Replace(w, `"text":"`, `"text":"\u00e9\ud800\"\\\/\b\f\n\r\t`, 1)))
	f.Add([]byte(strings.Replace(w, `"utc":"`, `"utc":"+`, 1)))
	f.Add([]byte(`{"seq":0,"prev":"","event":{}}`))
	f.Add([]byte(`{"seq":0,"prev":"","event":{"actor":{},"request":{"params":[]}}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, ok := scanRecord(line)
		if !ok {
			return
		}
		d, err := decodeRecord(line)
		if err != nil {
			t.Fatalf("scanRecord reads a line the decoder refuses (%v): %q", err, line)
		}
		if d.seq != r.seq || string(d.prev) != string(r.prev) || !d.utc.Equal(r.utc) || d.utc.Location().String() != r.utc.Location().String() {
			t.Fatalf("scanRecord: seq %d prev %q utc %v; decoder: %d %q %v; line %q", r.seq, r.prev, r.utc, d.seq, d.prev, d.utc, line)
		}
	})
}

// FuzzScanRecordWritten checks that every line FileLog can write (its
// json.Marshal of a recordLine, whatever the event's text) is read by
// scanRecord, as the decoder reads it: Verify's speed does not depend on
// what the events say.
func FuzzScanRecordWritten(f *testing.F) {
	f.Add(int64(0), []byte("h"), "801234567890", "Marcel <CAMPARINI> & fils", "2.1.5 Ok\t", "<dest@chu.mssante.fr>", true, int64(1764000000), int32(3600))
	f.Add(int64(1<<40), []byte{}, "", "\x00\n\u2028", "\xff\xfe", "", false, int64(-62135596800), int32(-43200))
	f.Fuzz(func(t *testing.T, seq int64, prevSum []byte, id, name, text, param string, ok bool, unix int64, offset int32) {
		if seq < 0 {
			return // FileLog numbers from 0
		}
		at := time.Unix(unix, int64(offset)).In(time.FixedZone("", int(offset)))
		e := Event{ID: id, Time: at, UTC: at.UTC(), Actor: Actor{ID: id, Name: name}, OnBehalfOf: &Actor{ID: name, Auth: AuthMethod(text)},
			Mailbox: Mailbox{Address: param}, Action: Action(text), Request: Request{Command: name, Params: []string{param, text}},
			Response: Response{OK: ok, Text: text}, MessageID: param, Correlation: name, Software: id}
		line, err := json.Marshal(recordLine{Seq: seq, Prev: base64.StdEncoding.EncodeToString(prevSum), Event: &e})
		if err != nil {
			return // a time json.Marshal refuses (year, zone): never written
		}
		r, read := scanRecord(line)
		if !read {
			t.Fatalf("scanRecord does not read a written line: %q", line)
		}
		d, err := decodeRecord(line)
		if err != nil {
			t.Fatalf("the decoder refuses a written line (%v): %q", err, line)
		}
		if r.seq != seq || d.seq != seq || string(r.prev) != string(d.prev) || !r.utc.Equal(d.utc) || !r.utc.Equal(e.UTC) {
			t.Fatalf("scanRecord: %d %q %v; decoder %d %q %v; written %d %v", r.seq, r.prev, r.utc, d.seq, d.prev, d.utc, seq, e.UTC)
		}
	})
}
