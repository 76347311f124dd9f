// SPDX-License-Identifier: Apache-2.0

package opserver

import (
	_ "embed"
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
// API for messages newer than the last shown). It reads the API with the
// cookie set by /ui?token=….
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	pageTmpl.Execute(w, s.Settings)
}
