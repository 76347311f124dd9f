// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireSameAsDecoder checks that scanRecord reads line (ok) as the
// decoder does: same sequence number, chain hash and UTC time.
func requireSameAsDecoder(t testing.TB, line []byte) {
	t.Helper()
	r, ok := scanRecord(line)
	require.True(t, ok, "scanRecord does not read %s", line)
	d, err := decodeRecord(line)
	require.NoError(t, err, "the decoder refuses %s", line)
	require.Equal(t, d.seq, r.seq)
	require.Equal(t, string(d.prev), string(r.prev))
	require.True(t, d.utc.Equal(r.utc) && d.utc.Location().String() == r.utc.Location().String(), "utc %v, decoder %v", r.utc, d.utc)
}

// fillAll sets every field reachable from v (strings, bools, slices,
// pointers, times, nested structs) to a non-zero value, so that
// json.Marshal writes every key, omitempty ones included.
func fillAll(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x<&>\"é\t")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillAll(s.Index(i))
		}
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillAll(p.Elem())
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 8, 1, 2, 3, 4005, time.FixedZone("", 5400))))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillAll(v.Field(i))
			}
		}
	default:
		panic(fmt.Sprintf("fillAll: %s: add it to the fast schema too", v.Type()))
	}
}

// Every field of Event, set, is read by scanRecord (a field added to
// Event but not to eventSchema would send every record to the slow
// decoder), and the line as written with every field present, or only
// the required ones, reads as the decoder reads it.
func TestScanRecordSchema(t *testing.T) {
	var e Event
	fillAll(reflect.ValueOf(&e).Elem())
	line, err := json.Marshal(recordLine{Seq: 123456789, Prev: ChainHashForTest([]byte("x")), Event: &e})
	require.NoError(t, err)
	for _, key := range []string{`"onBehalfOf":`, `"params":`, `"software":`, `"correlation":`, `"idType":`} {
		require.Contains(t, string(line), key)
	}
	requireSameAsDecoder(t, line)

	line, err = json.Marshal(recordLine{Seq: 0, Prev: "", Event: &Event{}})
	require.NoError(t, err)
	requireSameAsDecoder(t, line)
}

// The lines FileLog writes are read by scanRecord (the fast way), with
// what the decoder reads, for events with escapes, non-ASCII text, a
// real user and no optional field.
func TestScanRecordWrittenLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	s, v := KeysForTest(t)
	l, err := OpenFileLog(flConfig(path, s, v))
	require.NoError(t, err)
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	events := []Event{flEvent(0), flEvent(1)}
	e := flEvent(2)
	e.Time = time.Date(2026, 7, 1, 9, 30, 0, 123456789, paris)
	e.OnBehalfOf = &Actor{ID: "899700000001", Name: "Hélène <d'Arbois> & fils", Auth: AuthPSC}
	e.Response = Response{Text: "tab\there, \u00e9t\u00e9, \u4e2d"}
	e.Correlation, e.Software = "c-1", "gomss 0.9"
	events = append(events, e, Event{Actor: Actor{ID: "1"}, Action: Login, Request: Request{Command: "AUTHENTICATE"}})
	for _, e := range events {
		require.NoError(t, l.Record(context.Background(), e))
	}
	require.NoError(t, l.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	require.Len(t, lines, len(events)+1)
	for i, line := range lines[1:] {
		requireSameAsDecoder(t, line)
		r, _ := scanRecord(line)
		require.EqualValues(t, i, r.seq)
	}
}

// Lines not in the form FileLog writes are left to the decoder, which
// accepts some (another JSON encoder's spacing, key order or case,
// nulls, escapes) and refuses others; scanRecord never accepts them.
func TestScanRecordLeavesOthersToDecoder(t *testing.T) {
	e := flEvent(3)
	require.NoError(t, e.Normalize())
	line, err := json.Marshal(recordLine{Seq: 3, Prev: ChainHashForTest([]byte("x")), Event: &e})
	require.NoError(t, err)
	requireSameAsDecoder(t, line)
	w := string(line)
	prev := ChainHashForTest([]byte("x"))
	accepted := map[string]string{
		"spaces":           strings.Replace(w, `"seq":3,`, `"seq": 3 ,`, 1),
		"leading space":    " " + w,
		"trailing space":   w + " ",
		"trailing garbage": w + "garbage", // the decoder reads the first value only
		"keys reordered":   strings.Replace(strings.Replace(w, `"seq":3,`, ``, 1), `"event":`, `"seq":3,"event":`, 1),
		"key case":         strings.Replace(w, `"seq":`, `"Seq":`, 1),
		"key escaped":      strings.Replace(w, `"seq":`, `"s\u0065q":`, 1),
		"key twice":        strings.Replace(w, `"seq":3,`, `"seq":2,"seq":3,`, 1),
		"null":             strings.Replace(w, `"messageId":`, `"correlation":null,"messageId":`, 1),
		"prev escaped":     strings.Replace(w, `"prev":"`+prev[:1], `"prev":"\u00`+fmt.Sprintf("%x", prev[0]), 1),
		"prev slash":       strings.Replace(w, `"prev":"`, `"prev":"\/`, 1),
		"seq 19 digits":    strings.Replace(w, `"seq":3,`, `"seq":1000000000000000000,`, 1),
	}
	for name, l := range accepted {
		require.NotEqual(t, w, l, name)
		_, ok := scanRecord([]byte(l))
		assert.False(t, ok, "%s: scanRecord read it", name)
		_, err := decodeRecord([]byte(l))
		assert.NoError(t, err, "%s: the decoder refuses it", name)
	}
	// Not as FileLog writes them, but in the grammar scanRecord reads.
	for _, l := range []string{
		strings.Replace(w, `"params":["\u003cdest3@chu.mssante.fr\u003e"]`, `"params":[]`, 1),
		strings.Replace(w, `"seq":3,`, `"seq":-0,`, 1),
		strings.Replace(w, `"seq":3,`, `"seq":-12,`, 1),
		strings.Replace(w, `"seq":3,`, `"seq":999999999999999999,`, 1),
		strings.Replace(w, `"actor":{"id":"801234567890","idType":"IDNPS","name":"Marcel CAMPARINI","auth":"CPS"}`, `"actor":{}`, 1),
		strings.Replace(w, `"text":"2.1.5 Ok"`, `"text":"\ud800\"\\\/\b\f\n\r\t\u00E9ÿ"`, 1),
	} {
		require.NotEqual(t, w, l)
		requireSameAsDecoder(t, []byte(l))
	}
	refused := map[string]string{
		"unknown field":    strings.Replace(w, `"seq":3,`, `"seq":3,"extra":1,`, 1),
		"unknown in event": strings.Replace(w, `"action":`, `"note":"x","action":`, 1),
		"no event":         `{"seq":3,"prev":"` + prev + `"}`,
		"null event":       `{"seq":3,"prev":"` + prev + `","event":null}`,
		"seq fraction":     strings.Replace(w, `"seq":3,`, `"seq":3.0,`, 1),
		"seq exponent":     strings.Replace(w, `"seq":3,`, `"seq":3e0,`, 1),
		"seq string":       strings.Replace(w, `"seq":3,`, `"seq":"3",`, 1),
		"seq leading zero": strings.Replace(w, `"seq":3,`, `"seq":03,`, 1),
		"seq overflow":     strings.Replace(w, `"seq":3,`, `"seq":99999999999999999999,`, 1),
		"bad time":         strings.Replace(w, `"utc":"2026-11-24T10:00:03Z"`, `"utc":"2026-11-24T25:00:03Z"`, 1),
		"time escaped":     strings.Replace(w, `"utc":"2026-11-24T10:00:03Z"`, `"utc":"2026\u002d11-24T10:00:03Z"`, 1),
		"ok string":        strings.Replace(w, `"ok":true`, `"ok":"true"`, 1),
		"params string":    strings.Replace(w, `"params":[`, `"params":"x",[`, 1),
		"bad escape":       strings.Replace(w, `"text":"`, `"text":"\x`, 1),
		"short unicode":    strings.Replace(w, `"text":"`, `"text":"\u12`, 1),
		"control char":     strings.Replace(w, `"text":"`, "\"text\":\"\x01", 1),
		"cut":              w[:len(w)-1],
		"array":            `[` + w + `]`,
	}
	for name, l := range refused {
		require.NotEqual(t, w, l, name)
		_, ok := scanRecord([]byte(l))
		assert.False(t, ok, "%s: scanRecord read it", name)
		_, err := decodeRecord([]byte(l))
		assert.Error(t, err, "%s: the decoder accepts it", name)
	}
}

// A log whose records another encoder wrote (spaced, keys in another
// order) and chained verifies as before the fast reading: the decoder
// reads those lines; a bit flipped in one of them is still found.
func TestVerifyOtherEncoderLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	_, v := KeysForTest(t)
	head := []byte(`{"head":{"version":1,"origin":"gomss/trace","start":0}}`)
	var buf bytes.Buffer
	buf.Write(head)
	buf.WriteByte('\n')
	prev := lineHash(head)
	var spaced []int
	for i := range 7 {
		e := flEvent(i)
		require.NoError(t, e.Normalize())
		ev, err := json.Marshal(&e)
		require.NoError(t, err)
		var line []byte
		if i%2 == 1 {
			line = fmt.Appendf(nil, `{ "event": %s, "prev": %q, "seq": %d }`, ev, prev, i)
			spaced = append(spaced, i, buf.Len())
			_, ok := scanRecord(line)
			require.False(t, ok)
		} else {
			line, err = json.Marshal(recordLine{Seq: int64(i), Prev: prev, Event: &e})
			require.NoError(t, err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
		prev = lineHash(line)
	}
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	res, err := Verify(path, v)
	require.NoError(t, err)
	require.EqualValues(t, 7, res.Records)
	require.EqualValues(t, 7, res.Unsigned)
	require.Equal(t, prev, res.lastHash)

	for k := 0; k < len(spaced); k += 2 {
		rec, off := spaced[k], spaced[k+1]
		data := bytes.Clone(buf.Bytes())
		data[off+len(`{ "event": {"id":"`)] ^= 1 // in the event's id
		require.NoError(t, os.WriteFile(path, data, 0o600))
		_, err := Verify(path, v)
		var ce *CorruptionError
		require.ErrorAs(t, err, &ce)
		require.True(t, errors.Is(err, ErrTampered))
		require.EqualValues(t, rec, ce.Record, "%v", err)
	}
}

// A record line longer than the read buffer (256 KiB; FileLog's limits
// keep its lines well below, but another writer's need not be) is read
// whole, as before: it verifies, a byte changed in it is found, and the
// same line cut at the end of the file is an incomplete tail.
func TestVerifyLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	_, v := KeysForTest(t)
	head := []byte(`{"head":{"version":1,"origin":"gomss/trace","start":0}}`)
	var buf bytes.Buffer
	buf.Write(head)
	buf.WriteByte('\n')
	prev := lineHash(head)
	var longAt, longLen int
	for i := range 3 {
		e := flEvent(i)
		require.NoError(t, e.Normalize())
		if i == 1 {
			e.Response.Text = strings.Repeat("long ", 120_000) // 600 KB
		}
		line, err := json.Marshal(recordLine{Seq: int64(i), Prev: prev, Event: &e})
		require.NoError(t, err)
		if i == 1 {
			longAt, longLen = buf.Len(), len(line)
			requireSameAsDecoder(t, line)
		}
		buf.Write(line)
		buf.WriteByte('\n')
		prev = lineHash(line)
	}
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	res, err := Verify(path, v)
	require.NoError(t, err)
	require.EqualValues(t, 3, res.Records)
	require.Equal(t, prev, res.lastHash)

	data := bytes.Clone(buf.Bytes())
	data[longAt+longLen/2] = 'L'
	require.NoError(t, os.WriteFile(path, data, 0o600))
	_, err = Verify(path, v)
	var ce *CorruptionError
	require.ErrorAs(t, err, &ce)
	require.EqualValues(t, 1, ce.Record, "%v", err)

	require.NoError(t, os.WriteFile(path, buf.Bytes()[:longAt+longLen-10], 0o600))
	res, err = Verify(path, v)
	require.NoError(t, err)
	require.EqualValues(t, 1, res.Records)
	require.True(t, res.IncompleteTail)
	require.EqualValues(t, longAt, res.validBytes)
}
