// SPDX-License-Identifier: Apache-2.0

package opserver

import (
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
)

//go:embed page.html
var pageHTML string

// openAPI documents the API (OpenAPI 3), served at /api/v1/openapi.yaml.
//
//go:embed openapi.yaml
var openAPI []byte

var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

// page serves the web page: the messages per mailbox, each with its check
// result, headers, attachments and CDA header, updated live (it polls the
// API every second for messages newer than the last shown, one request at
// a time). It reads the API with the cookie set by /ui?token=….
//
// The page builds its DOM with text nodes only: message data is never
// parsed as HTML. The Content-Security-Policy allows its one script (by a
// nonce drawn for each response) and nothing else, so that even markup
// that slipped in could run no script.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	var b [16]byte
	rand.Read(b[:])
	nonce := base64.StdEncoding.EncodeToString(b[:])
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-"+nonce+"'; style-src 'unsafe-inline'; "+
		"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	pageTmpl.Execute(w, struct {
		Settings
		Nonce string
	}{s.Settings, nonce})
}
