// SPDX-License-Identifier: Apache-2.0

package opserver

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
)

// maxInject bounds an injected message (the operator's own limit applies
// to SMTP; this one to the API's request bodies).
const maxInject = 64 << 20

// handler serves the API (under /api/v1/, see openapi.yaml) and the page
// (/ui). Every request needs the token: "Authorization: Bearer <token>",
// or the cookie the page's first visit (/ui?token=<token>) sets.
func (s *Server) handler(token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/settings", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Settings) })
	mux.HandleFunc("GET /api/v1/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(openAPI)
	})
	mux.HandleFunc("GET /api/v1/mailboxes", s.mailboxes)
	mux.HandleFunc("GET /api/v1/messages", s.listMessages)
	mux.HandleFunc("GET /api/v1/messages/{id}", s.message)
	mux.HandleFunc("GET /api/v1/messages/{id}/raw", s.raw)
	mux.HandleFunc("GET /api/v1/messages/{id}/attachments/{n}", s.attachment)
	mux.HandleFunc("POST /api/v1/mailboxes/{address}/messages", s.inject)
	mux.HandleFunc("POST /api/v1/messages/{id}/dsn", s.answerDSN)
	mux.HandleFunc("POST /api/v1/messages/{id}/mdn", s.answerMDN)
	mux.HandleFunc("POST /api/v1/faults", s.setFaults)
	mux.HandleFunc("DELETE /api/v1/faults", func(w http.ResponseWriter, r *http.Request) {
		s.Op.ClearFaults()
		writeJSON(w, http.StatusOK, map[string]bool{"cleared": true})
	})
	mux.HandleFunc("POST /api/v1/reset", s.reset)
	mux.HandleFunc("GET /api/v1/wait", s.wait)
	mux.HandleFunc("GET /ui", s.page)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui", http.StatusFound) })
	return authorize(token, mux)
}

const cookieName = "mss_operator_token"

func authorize(token string, next http.Handler) http.Handler {
	ok := func(got string) bool { return subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ui" && r.URL.Query().Get("token") != "" {
			if !ok(r.URL.Query().Get("token")) {
				apiError(w, http.StatusUnauthorized, "wrong token")
				return
			}
			http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			http.Redirect(w, r, "/ui", http.StatusFound)
			return
		}
		got, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !found {
			if c, err := r.Cookie(cookieName); err == nil {
				got, found = c.Value, true
			}
		}
		if !found || !ok(got) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mssoperator"`)
			apiError(w, http.StatusUnauthorized, "a token is needed: Authorization: Bearer <apiToken of operator.json>")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// apiError answers {"error": msg}.
func apiError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func (s *Server) mailboxes(w http.ResponseWriter, r *http.Request) {
	type box struct {
		Mailbox
		Messages int `json:"messages"` // delivered since the start or the last reset
	}
	var out []box
	for _, b := range s.Settings.Mailboxes {
		out = append(out, box{Mailbox: b, Messages: s.store.count(b.Address)})
	}
	writeJSON(w, http.StatusOK, out)
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s: want an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	q := Query{Mailbox: r.URL.Query().Get("mailbox"), Q: r.URL.Query().Get("q")}
	var err error
	if q.Limit, err = intParam(r, "limit", 100, 1, 1000); err == nil {
		if q.Offset, err = intParam(r, "offset", 0, 0, 1<<30); err == nil {
			if v := r.URL.Query().Get("after"); v != "" {
				if q.After, err = strconv.ParseInt(v, 10, 64); err != nil || q.After < 0 {
					err = fmt.Errorf("after: want a message id")
				}
			}
		}
	}
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	page, total := s.store.list(q)
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "messages": page})
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*stored, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		apiError(w, http.StatusBadRequest, "id: not a number")
		return nil, false
	}
	m, ok := s.store.get(id)
	if !ok {
		apiError(w, http.StatusNotFound, "no message %d", id)
	}
	return m, ok
}

// Detail is a message as the API shows it: parsed, checked.
type Detail struct {
	Summary
	Headers     [][2]string        `json:"headers"`
	MSS         mssante.MSSHeaders `json:"mss"`
	Text        string             `json:"text"`
	Attachments []AttachmentInfo   `json:"attachments"`
	XDM         *XDMInfo           `json:"xdm,omitempty"`
	Check       CheckInfo          `json:"check"`
	ParseError  string             `json:"parseError,omitempty"`
	Tolerated   []string           `json:"tolerated,omitempty"`
}

// AttachmentInfo describes an attachment; its bytes are at
// /api/v1/messages/{id}/attachments/{index}.
type AttachmentInfo struct {
	Index       int    `json:"index"`
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int    `json:"size"`
}

// XDMInfo summarises the IHE_XDM.ZIP archive and the CDA headers in it.
type XDMInfo struct {
	Subset    string    `json:"subset"`
	Error     string    `json:"error,omitempty"`
	Documents []DocInfo `json:"documents"`
}

// DocInfo is one document of the archive.
type DocInfo struct {
	Name      string     `json:"name"`
	UniqueID  string     `json:"uniqueId"`
	Title     string     `json:"title"`
	Type      string     `json:"type"`
	PatientID string     `json:"patientId"`
	Size      int64      `json:"size"`
	CDA       *CDAHeader `json:"cda,omitempty"`
}

// CDAHeader is the readable part of a CDA document's header.
type CDAHeader struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	Type          string `json:"type"`
	EffectiveTime string `json:"effectiveTime"`  // as written in the document (TS, e.g. 20261207101500+0100)
	Date          string `json:"date,omitempty"` // the same in words: 07/12/2026 10:15 (+0100)
	// Patient is the recordTarget's identity (ins.Identity) as read;
	// PatientName, PatientBirth and PatientINS say it in words.
	Patient      any    `json:"patient,omitempty"`
	PatientName  string `json:"patientName,omitempty"`  // birth family name, birth given names, used names
	PatientBirth string `json:"patientBirth,omitempty"` // sex, date (DD/MM/YYYY) and place of birth
	PatientINS   string `json:"patientINS,omitempty"`   // matricule and assigning authority
	Author       string `json:"author,omitempty"`       // the authors, names or software, and organisations
	Custodian    string `json:"custodian,omitempty"`    // the custodian organisation
	Error        string `json:"error,omitempty"`
}

// CheckInfo is mssante.Received.Check's result (Référentiel socle #2
// rule ids, RFC and MES rules).
type CheckInfo struct {
	Kind      string            `json:"kind"`
	Compliant bool              `json:"compliant"`
	Problems  []mssante.Problem `json:"problems"`
}

func (s *Server) detail(m *stored) Detail {
	d := Detail{Summary: m.Summary, Attachments: []AttachmentInfo{}}
	rec, err := mssante.Parse(bytes.NewReader(m.raw), nil)
	if err != nil {
		d.ParseError = err.Error()
		return d
	}
	for f := rec.Header.Fields(); f.Next(); {
		d.Headers = append(d.Headers, [2]string{f.Key(), f.Value()})
	}
	d.MSS, d.Text, d.Tolerated = rec.MSS, rec.Text, rec.Problems
	if len(d.Text) > 64<<10 {
		d.Text = d.Text[:64<<10] + "\n[…]"
	}
	for i, p := range rec.Attachments {
		d.Attachments = append(d.Attachments, AttachmentInfo{Index: i, Name: p.Name, ContentType: p.ContentType, Size: len(p.Data)})
	}
	problems := rec.Check()
	if problems == nil {
		problems = []mssante.Problem{}
	}
	d.Check = CheckInfo{Kind: rec.Kind().String(), Compliant: len(problems) == 0, Problems: problems}
	if rec.XDM != nil || rec.XDMErr != nil {
		x := &XDMInfo{Documents: []DocInfo{}}
		if rec.XDMErr != nil {
			x.Error = rec.XDMErr.Error()
		}
		if a := rec.XDM; a != nil {
			x.Subset = a.Subset
			for _, doc := range a.Documents {
				di := DocInfo{Name: doc.Name}
				if e := doc.Entry; e != nil {
					di.UniqueID, di.Title, di.Type, di.PatientID, di.Size = e.UniqueID, e.Title, e.Type.Code, e.PatientID, e.Size
					if e.Type.Display != "" {
						di.Type += " " + e.Type.Display
					}
				}
				if strings.HasSuffix(strings.ToLower(doc.Name), ".xml") {
					di.CDA = cdaHeader(doc.Open)
				}
				x.Documents = append(x.Documents, di)
			}
		}
		d.XDM = x
	}
	return d
}

func cdaHeader(open func() (io.ReadCloser, error)) *CDAHeader {
	rc, err := open()
	if err != nil {
		return &CDAHeader{Error: err.Error()}
	}
	defer rc.Close()
	doc, err := cda.ReadHeader(rc, nil)
	if err != nil {
		return &CDAHeader{Error: err.Error()}
	}
	h := doc.Header
	out := &CDAHeader{ID: h.ID.String(), Title: h.Title, Type: strings.TrimSpace(h.Type.Code + " " + h.Type.Display),
		EffectiveTime: fmt.Sprint(h.EffectiveTime)}
	if h.Patient != nil {
		out.Patient = h.Patient
		out.PatientName, out.PatientBirth, out.PatientINS = patientWords(h.Patient)
	}
	var authors []string
	for _, a := range h.Authors {
		switch {
		case a.Person != nil:
			authors = append(authors, personWords(a.Person))
		case a.Device != nil:
			authors = append(authors, joinWords(" — ", strings.TrimSpace(a.Device.Software+" "+a.Device.Model), orgWords(a.Device.Organization)))
		}
	}
	out.Author = strings.Join(authors, " ; ")
	out.Custodian = orgWords(&h.Custodian)
	if ts := h.EffectiveTime; !ts.IsZero() {
		switch {
		case ts.Precision == cda.Day:
			out.Date = ts.Time.Format("02/01/2006")
		case ts.NoZone:
			out.Date = ts.Time.Format("02/01/2006 15:04")
		default:
			out.Date = ts.Time.Format("02/01/2006 15:04 (-0700)")
		}
	}
	if doc.PatientErr != nil {
		out.Error = "patient: " + doc.PatientErr.Error()
	}
	return out
}

// patientWords says an identity as a user reads it.
func patientWords(p *ins.Identity) (name, birth, insText string) {
	t := p.Traits
	name = joinWords(" ", t.BirthFamilyName, t.BirthGivenNames)
	if t.BirthGivenNames == "" {
		name = joinWords(" ", name, t.FirstBirthGivenName)
	}
	first := t.FirstBirthGivenName
	if first == "" {
		first, _, _ = strings.Cut(t.BirthGivenNames, " ")
	}
	// The used names, when they differ from the birth names.
	var used []string
	if t.UsedFamilyName != "" && t.UsedFamilyName != t.BirthFamilyName {
		used = append(used, "nom utilisé "+t.UsedFamilyName)
	}
	if t.UsedGivenName != "" && t.UsedGivenName != first {
		used = append(used, "prénom utilisé "+t.UsedGivenName)
	}
	if len(used) > 0 {
		name = joinWords(" ", name, "("+strings.Join(used, ", ")+")")
	}
	var date string
	if !t.BirthDate.IsZero() {
		date = fmt.Sprintf("le %02d/%02d/%04d", t.BirthDate.Day, int(t.BirthDate.Month), t.BirthDate.Year)
	}
	place := t.BirthPlaceName
	if t.BirthPlace != "" {
		place = joinWords(" ", place, "("+t.BirthPlace+")")
	}
	if place != "" {
		place = "à " + place
	}
	birth = joinWords(", ", "sexe "+string(t.Sex), joinWords(" ", date, place))
	if t.Sex == "" {
		birth = joinWords(" ", date, place)
	}
	if !p.INS.IsZero() {
		insText = joinWords(" ", p.INS.Matricule.String(), "("+authorityWords(p.INS.Authority)+")")
	}
	return name, birth, insText
}

func authorityWords(a ins.Authority) string {
	switch a {
	case ins.AuthorityNIR:
		return "NIR"
	case ins.AuthorityNIA:
		return "NIA"
	case ins.AuthorityNIRTest:
		return "NIR de test"
	case ins.AuthorityNIRDemo:
		return "NIR de démonstration"
	}
	return "autorité " + string(a)
}

func personWords(p *cda.Person) string {
	n := p.Name
	return joinWords(" — ", joinWords(" ", n.Prefix, n.Given, n.Family, n.Suffix), p.Specialty.Display, orgWords(p.Organization))
}

func orgWords(o *cda.Organization) string {
	if o == nil {
		return ""
	}
	id := o.ID.String()
	if id != "" {
		id = "(" + id + ")"
	}
	return joinWords(" ", o.Name, id)
}

// joinWords joins the parts that are not empty.
func joinWords(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func (s *Server) message(w http.ResponseWriter, r *http.Request) {
	if m, ok := s.lookup(w, r); ok {
		writeJSON(w, http.StatusOK, s.detail(m))
	}
}

func (s *Server) raw(w http.ResponseWriter, r *http.Request) {
	if m, ok := s.lookup(w, r); ok {
		w.Header().Set("Content-Type", "message/rfc822")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="message-%d.eml"`, m.ID))
		w.Write(m.raw)
	}
}

func (s *Server) attachment(w http.ResponseWriter, r *http.Request) {
	m, ok := s.lookup(w, r)
	if !ok {
		return
	}
	rec, err := mssante.Parse(bytes.NewReader(m.raw), nil)
	if err != nil {
		apiError(w, http.StatusUnprocessableEntity, "the message cannot be parsed: %v", err)
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 || n >= len(rec.Attachments) {
		apiError(w, http.StatusNotFound, "no attachment %s (the message has %d)", r.PathValue("n"), len(rec.Attachments))
		return
	}
	p := rec.Attachments[n]
	ct := p.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == '\\' || r == '/' {
			return '_'
		}
		return r
	}, p.Name)
	if name == "" {
		name = fmt.Sprintf("attachment-%d", n)
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(p.Data)
}

func (s *Server) inject(w http.ResponseWriter, r *http.Request) {
	address := r.PathValue("address")
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxInject+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "reading the message: %v", err)
		return
	}
	if len(raw) > maxInject {
		apiError(w, http.StatusRequestEntityTooLarge, "the message is over %d bytes", maxInject)
		return
	}
	if _, err := mssante.Parse(bytes.NewReader(raw), nil); err != nil {
		apiError(w, http.StatusBadRequest, "not a message: %v", err)
		return
	}
	before := s.store.lastID()
	if err := s.Op.DeliverTo(address, raw); err != nil {
		apiError(w, http.StatusNotFound, "%v", err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int64{"id": s.store.firstAfter(before, address)})
}

// AnswerRequest asks for a DSN about a message: Answer names one of
// baltest.CannedDSNs, or Action (with Status, Diagnostic) gives it;
// Recipient defaults to the mailbox the message was delivered to.
type AnswerRequest struct {
	Answer     string `json:"answer"`
	Recipient  string `json:"recipient"`
	Action     string `json:"action"`
	Status     string `json:"status"`
	Diagnostic string `json:"diagnostic"`
	EnvelopeID string `json:"envelopeId"`
	// Error, for an MDN, is the integration error code (900–906); 0 for
	// a success (processed).
	Error int `json:"error"`
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		apiError(w, http.StatusBadRequest, "request body: %v", err)
		return false
	}
	return true
}

// answerRequest reads the message of the path and the request body of an
// answer (DSN or MDN); false when it has answered an error.
func (s *Server) answerRequest(w http.ResponseWriter, r *http.Request) (*stored, AnswerRequest, bool) {
	var req AnswerRequest
	m, ok := s.lookup(w, r)
	return m, req, ok && decode(w, r, &req)
}

func (s *Server) answerDSN(w http.ResponseWriter, r *http.Request) {
	m, req, ok := s.answerRequest(w, r)
	if !ok {
		return
	}
	a := baltest.DSNAnswer{Action: req.Action, Status: req.Status, Diagnostic: req.Diagnostic}
	if req.Answer != "" {
		canned, ok := baltest.CannedDSNs[req.Answer]
		if !ok {
			apiError(w, http.StatusBadRequest, "answer %q: not one of %s", req.Answer, strings.Join(cannedNames(), ", "))
			return
		}
		a = canned
	}
	a.Recipient, a.EnvelopeID = req.Recipient, req.EnvelopeID
	if a.Recipient == "" {
		a.Recipient = m.Mailbox
	}
	before := s.store.lastID()
	if _, err := s.Op.AnswerDSN(m.raw, a); err != nil {
		apiError(w, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int64{"id": s.store.firstAfter(before, "")})
}

func cannedNames() []string { return slices.Sorted(maps.Keys(baltest.CannedDSNs)) }

func (s *Server) answerMDN(w http.ResponseWriter, r *http.Request) {
	m, req, ok := s.answerRequest(w, r)
	if !ok {
		return
	}
	rec, err := mssante.Parse(bytes.NewReader(m.raw), nil)
	if err != nil {
		apiError(w, http.StatusUnprocessableEntity, "the message cannot be parsed: %v", err)
		return
	}
	opts := mssante.MDNOptions{From: mssante.Sender{Address: m.Mailbox, Kind: mssante.Applicative, Entity: "Operateur de test"},
		Product: "MSSOPERATOR", Confirmed: true}
	if req.Error != 0 {
		ie, ok := integrationError(req.Error)
		if !ok {
			apiError(w, http.StatusBadRequest, "error %d: not an integration error code (900–906)", req.Error)
			return
		}
		opts.Error = &ie
	}
	ack, err := mssante.NewMDN(rec, opts)
	if err != nil {
		apiError(w, http.StatusUnprocessableEntity, "no MDN for this message: %v", err)
		return
	}
	var b bytes.Buffer
	if _, err := ack.WriteTo(&b); err != nil {
		apiError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	to := ack.Envelope().Recipients
	if len(to) == 0 {
		apiError(w, http.StatusUnprocessableEntity, "the MDN has no recipient")
		return
	}
	before := s.store.lastID()
	if err := s.Op.DeliverTo(to[0], b.Bytes()); err != nil {
		apiError(w, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int64{"id": s.store.firstAfter(before, to[0])})
}

func integrationError(code int) (mssante.IntegrationError, bool) {
	for _, e := range []mssante.IntegrationError{mssante.IntegrationWrongVersion, mssante.IntegrationAuthorRefused,
		mssante.IntegrationPatientUnknown, mssante.IntegrationINSAbsent, mssante.IntegrationINSMismatch,
		mssante.IntegrationINSIncomplete, mssante.IntegrationOther} {
		if e.Code == code {
			return e, true
		}
	}
	return mssante.IntegrationError{}, false
}

// FaultsRequest sets faults (each optional); DELETE /api/v1/faults clears
// them.
type FaultsRequest struct {
	RefuseNextRcpt *struct {
		Code     int    `json:"code"`
		Enhanced string `json:"enhanced"`
		Text     string `json:"text"`
	} `json:"refuseNextRcpt"`
	CutNextData bool   `json:"cutNextData"`
	Delay       string `json:"delay"` // a Go duration ("500ms"); "0" ends it
	ExpireToken string `json:"expireToken"`
	// Revoke names a client certificate of the settings' files ("cps",
	// "org"): the operator then refuses it at the TLS handshake.
	Revoke string `json:"revoke"`
}

func (s *Server) setFaults(w http.ResponseWriter, r *http.Request) {
	var req FaultsRequest
	if !decode(w, r, &req) {
		return
	}
	var d time.Duration
	if req.Delay != "" {
		var err error
		if d, err = time.ParseDuration(req.Delay); err != nil || d < 0 || d > 10*time.Minute {
			apiError(w, http.StatusBadRequest, "delay %q: want a duration from 0 to 10m", req.Delay)
			return
		}
	}
	var leaf *baltest.Leaf
	if req.Revoke != "" {
		if leaf = s.leaves[req.Revoke]; leaf == nil {
			apiError(w, http.StatusBadRequest, "revoke %q: want cps or org", req.Revoke)
			return
		}
	}
	if req.ExpireToken != "" && !s.Op.ExpireToken(req.ExpireToken) {
		apiError(w, http.StatusNotFound, "no such token")
		return
	}
	set := []string{}
	if f := req.RefuseNextRcpt; f != nil {
		if err := s.Op.RefuseNextRcpt(f.Code, f.Enhanced, f.Text); err != nil {
			apiError(w, http.StatusBadRequest, "refuseNextRcpt: %v", err)
			return
		}
		set = append(set, "refuseNextRcpt")
	}
	if req.CutNextData {
		s.Op.CutNextData()
		set = append(set, "cutNextData")
	}
	if req.Delay != "" {
		s.Op.SetDelay(d)
		set = append(set, "delay")
	}
	if req.ExpireToken != "" {
		set = append(set, "expireToken")
	}
	if leaf != nil {
		s.Op.Revoke(leaf.Cert)
		set = append(set, "revoke")
	}
	writeJSON(w, http.StatusOK, map[string][]string{"set": set})
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	if err := s.Op.Reset(); err != nil {
		apiError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	s.store.reset()
	writeJSON(w, http.StatusOK, map[string]bool{"reset": true})
}

// wait is the long poll: GET /api/v1/wait?mailbox=&count=N&timeout=30s
// answers 200 once mailbox (any when empty) holds N messages since the
// start or the last reset, 408 at the timeout (at most 5 minutes), with
// the count either way.
func (s *Server) wait(w http.ResponseWriter, r *http.Request) {
	n, err := intParam(r, "count", 1, 1, 1<<30)
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	timeout := 30 * time.Second
	if v := r.URL.Query().Get("timeout"); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 || timeout > 5*time.Minute {
			apiError(w, http.StatusBadRequest, "timeout %q: want a duration up to 5m", v)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	have, err := s.store.wait(ctx, r.URL.Query().Get("mailbox"), n)
	if err != nil {
		writeJSON(w, http.StatusRequestTimeout, map[string]any{"count": have, "error": fmt.Sprintf("%d messages after %v, want %d", have, timeout, n)})
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": have})
}
