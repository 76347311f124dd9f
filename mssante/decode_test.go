// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/stretchr/testify/require"
)

// goMessageBase64 decodes body as go-message does (what Parse did for
// every base64 part before decodeBase64).
func goMessageBase64(body []byte) ([]byte, error) {
	h := message.Header{}
	h.Set("Content-Transfer-Encoding", "base64")
	ent, err := message.New(h, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(ent.Body)
}

// wrap76 is the base64 of b in lines of 76 characters, as a MIME writer
// puts it.
func wrap76(b []byte, eol string) []byte {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + eol)
		s = s[76:]
	}
	out.WriteString(s + eol)
	return []byte(out.String())
}

// TestDecodeBase64: bodies as senders write them are decoded at their
// exact size; what is not plain base64 in CR/LF lines, or does not
// decode at once, is left to go-message (ok false).
func TestDecodeBase64(t *testing.T) {
	payload := make([]byte, 1000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	for _, n := range []int{0, 1, 2, 3, 4, 56, 57, 58, 1000} {
		for _, eol := range []string{"\r\n", "\n", ""} {
			body := wrap76(payload[:n], eol)
			data, ok := decodeBase64(body)
			require.True(t, ok, "%d bytes, eol %q", n, eol)
			require.Equal(t, payload[:n], data)
			require.Equal(t, n, cap(data), "one allocation of the exact size")
		}
	}
	for _, body := range []string{
		"QUJDRA==\r\nQUJD",  // go-message decodes it or not depending on its reads
		"QUJD\r\n REVG\r\n", // an indented line: go-message reads the blank as a line break
		"QUJD\tREVG",
		"QUJ",      // truncated
		"QUJD!!!!", // not base64
		"QQ==QQ==", // padding in the middle
		"Q===",     // too much padding
	} {
		data, ok := decodeBase64([]byte(body))
		require.False(t, ok, "%q", body)
		require.Nil(t, data)
	}
	// Padding split by a line break is still base64 in CR/LF lines.
	data, ok := decodeBase64([]byte("QUJDRA=\r\n="))
	require.True(t, ok)
	require.Equal(t, []byte("ABCD"), data)
	require.Equal(t, 4, cap(data))
}

// FuzzDecodeBase64: whenever decodeBase64 decodes, go-message decodes
// the same bytes (so Parse's result is what it was); it never panics.
func FuzzDecodeBase64(f *testing.F) {
	f.Add([]byte("QUJD\r\nREVG\r\n"))
	f.Add([]byte("QQ==\r\n"))
	f.Add([]byte("QQ==QQ=="))
	f.Add([]byte("QUJD\r\n REVG"))
	f.Add(wrap76([]byte("%PDF-1.4 some bytes \x00\xff of a document"), "\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		data, ok := decodeBase64(body)
		if !ok {
			require.Nil(t, data)
			return
		}
		want, err := goMessageBase64(body)
		require.NoError(t, err, "decodeBase64 decoded what go-message refuses")
		require.Equal(t, want, data)
		require.Equal(t, len(data), cap(data), "exact size")
	})
}
