// SPDX-License-Identifier: Apache-2.0

package opserver

import (
	"bytes"
	"context"
	"mime"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/ecdaf744/gomss/bal/baltest"
)

// Summary is what the message list shows of a message: read from its
// header when it is stored, so that listing never parses a body.
type Summary struct {
	ID        int64     `json:"id"`
	Mailbox   string    `json:"mailbox"`
	Time      time.Time `json:"time"`
	Size      int       `json:"size"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	MessageID string    `json:"messageId"`
	// Kind is "message", "dsn" or "mdn" (from the Content-Type).
	Kind string `json:"kind"`
}

type stored struct {
	Summary
	raw    []byte
	search string // lower-cased from, to, subject, Message-ID
}

// store keeps every message the operator delivered (SMTP, DSNs, injected),
// in delivery order, whatever the IMAP clients do with their copies since:
// what was sent, as a catcher keeps it.
type store struct {
	mu      sync.Mutex
	msgs    []*stored
	byID    map[int64]*stored
	next    int64
	changed chan struct{} // closed and replaced at each change
}

func newStore() *store {
	return &store{byID: map[int64]*stored{}, next: 1, changed: make(chan struct{})}
}

// add is the operator's Delivered hook.
func (s *store) add(d baltest.Delivery) {
	m := &stored{Summary: Summary{Mailbox: d.Address, Time: d.Time, Size: len(d.Raw), Kind: "message"}, raw: d.Raw}
	if msg, err := mail.ReadMessage(bytes.NewReader(d.Raw)); err == nil {
		dec := new(mime.WordDecoder)
		get := func(k string) string {
			v := msg.Header.Get(k)
			if d, err := dec.DecodeHeader(v); err == nil {
				return d
			}
			return v
		}
		m.From, m.To, m.Subject, m.MessageID = get("From"), get("To"), get("Subject"), strings.TrimSpace(msg.Header.Get("Message-Id"))
		ct := strings.ToLower(msg.Header.Get("Content-Type"))
		switch {
		case strings.Contains(ct, "report-type=delivery-status") || strings.Contains(ct, "report-type=\"delivery-status\""):
			m.Kind = "dsn"
		case strings.Contains(ct, "report-type=disposition-notification") || strings.Contains(ct, "report-type=\"disposition-notification\""):
			m.Kind = "mdn"
		}
	}
	m.search = strings.ToLower(m.From + "\x00" + m.To + "\x00" + m.Subject + "\x00" + m.MessageID)
	s.mu.Lock()
	defer s.mu.Unlock()
	m.ID = s.next
	s.next++
	s.msgs = append(s.msgs, m)
	s.byID[m.ID] = m
	close(s.changed)
	s.changed = make(chan struct{})
}

// reset forgets every message (ids go on increasing).
func (s *store) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs, s.byID = nil, map[int64]*stored{}
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *store) get(id int64) (*stored, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[id]
	return m, ok
}

// Query selects messages: Mailbox (case-insensitive) and Q (a substring
// of From, To, Subject or Message-ID, case-insensitive) when not empty,
// with an ID above After; newest first, Offset skipped, at most Limit.
type Query struct {
	Mailbox, Q    string
	After         int64
	Offset, Limit int
}

// list returns the page of q and how many messages match in all.
func (s *store) list(q Query) (page []Summary, total int) {
	mailbox, text := strings.ToLower(q.Mailbox), strings.ToLower(q.Q)
	s.mu.Lock()
	defer s.mu.Unlock()
	page = make([]Summary, 0, min(q.Limit, 64))
	for i := len(s.msgs) - 1; i >= 0; i-- {
		m := s.msgs[i]
		if m.ID <= q.After {
			break
		}
		if mailbox != "" && !strings.EqualFold(m.Mailbox, mailbox) {
			continue
		}
		if text != "" && !strings.Contains(m.search, text) {
			continue
		}
		if total >= q.Offset && len(page) < q.Limit {
			page = append(page, m.Summary)
		}
		total++
	}
	return page, total
}

// count returns how many messages mailbox holds ("" for all).
func (s *store) count(mailbox string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mailbox == "" {
		return len(s.msgs)
	}
	n := 0
	for _, m := range s.msgs {
		if strings.EqualFold(m.Mailbox, mailbox) {
			n++
		}
	}
	return n
}

// wait waits until mailbox ("" for any) holds at least n messages, or ctx
// ends; it returns how many it holds.
func (s *store) wait(ctx context.Context, mailbox string, n int) (int, error) {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if have := s.count(mailbox); have >= n {
			return have, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s.count(mailbox), ctx.Err()
		}
	}
}

// lastID is the id of the last message stored (0 when none).
func (s *store) lastID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next - 1
}

// firstAfter is the id of the first message stored after id before for
// mailbox (any when ""), 0 when none: the message a delivery just stored.
func (s *store) firstAfter(before int64, mailbox string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if m.ID > before && (mailbox == "" || strings.EqualFold(m.Mailbox, mailbox)) {
			return m.ID
		}
	}
	return 0
}
