// SPDX-License-Identifier: Apache-2.0

package opserver

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every route the API serves is in openapi.yaml with its method, and the
// document is served at /api/v1/openapi.yaml as embedded.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	src, err := os.ReadFile("api.go")
	require.NoError(t, err)
	routes := regexp.MustCompile(`mux\.HandleFunc\("([A-Z]+) (/[^"]*)"`).FindAllStringSubmatch(string(src), -1)
	require.Greater(t, len(routes), 15)
	doc := string(openAPI)
	for _, r := range routes {
		method, path := strings.ToLower(r[1]), r[2]
		if path == "/{$}" {
			continue // the redirect to /ui
		}
		i := strings.Index(doc, "\n  "+path+":\n")
		if !assert.GreaterOrEqual(t, i, 0, "%s %s is not in openapi.yaml", r[1], path) {
			continue
		}
		block := doc[i+1:]
		if j := regexp.MustCompile(`\n  /`).FindStringIndex(block[1:]); j != nil {
			block = block[:j[0]+1]
		}
		assert.Contains(t, block, "\n    "+method+":", "%s %s: method not documented", r[1], path)
	}

	_, c := startFromFiles(t)
	req, _ := http.NewRequest("GET", c.st.API+"/api/v1/openapi.yaml", nil)
	req.Header.Set("Authorization", "Bearer "+c.st.APIToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, openAPI, b)
}
