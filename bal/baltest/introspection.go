// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// introspection is a minimal OAuth2 token introspection endpoint (RFC 7662)
// for Dovecot's oauth2 passdb: it answers a POSTed token=... with
// {"active":true,"username":...} for known tokens and {"active":false}
// otherwise.
type introspection struct {
	url  string
	srv  *http.Server
	done chan struct{}
	hits atomic.Int64

	mu     sync.Mutex
	tokens map[string]string // token → user name
}

func startIntrospection() (*introspection, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("baltest: introspection endpoint: %w", err)
	}
	in := &introspection{
		url:    "http://" + ln.Addr().String() + "/introspect",
		done:   make(chan struct{}),
		tokens: map[string]string{},
	}
	in.srv = &http.Server{Handler: in}
	go func() {
		defer close(in.done)
		in.srv.Serve(ln) // returns http.ErrServerClosed after close
	}()
	return in, nil
}

func (in *introspection) add(token, user string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.tokens[token] = user
}

func (in *introspection) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in.hits.Add(1)
	if r.Method != http.MethodPost {
		http.Error(w, "POST a token", http.StatusMethodNotAllowed)
		return
	}
	token := r.PostFormValue("token")
	in.mu.Lock()
	user, ok := in.tokens[token]
	in.mu.Unlock()
	answer := map[string]any{"active": false}
	if ok && token != "" {
		answer = map[string]any{"active": true, "username": user, "scope": "mail"}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

func (in *introspection) close() {
	in.srv.Close()
	<-in.done
}
