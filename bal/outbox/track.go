// SPDX-License-Identifier: Apache-2.0

package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// HandleReport reconciles a DSN or an MDN received with the message it
// answers (SC.MSS/UX.35), and records it durably before returning, so
// that the receive loop may file it. Set the outbox as bal.Loop.Reports
// and every report the loop reads comes here.
//
// The message is found by, in this order: the DSN's Original-Envelope-Id
// (the ENVID given at MAIL FROM, the Message-ID by default), the
// Original-Message-ID of the DSN's returned header or of the MDN, then the
// report's own In-Reply-To and References. The recipient is the report's
// Original-Recipient (the ORCPT given at RCPT), else its Final-Recipient,
// else (an MDN) its sender, else the message's only recipient.
//
// A report given twice (same Message-ID: the loop delivers at least once,
// a server may send a DSN again) is taken into account once. A report
// that matches no message, or cannot be read, is kept and listed by
// Unmatched, and traced (ActionUnmatched): never dropped. HandleReport
// returns an error only when the report could not be recorded (the store,
// or its trace under trace.FailClosed): the loop then leaves it for its
// next pass.
func (o *Outbox) HandleReport(ctx context.Context, m *mssante.Received) error {
	id := m.MessageID
	if id == "" {
		h := sha256.New()
		for _, p := range m.Reports {
			h.Write([]byte(p.ContentType))
			h.Write(p.Data)
		}
		id = "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	o.mu.Lock()
	if _, dup := o.seen[id]; dup {
		o.mu.Unlock()
		return nil
	}
	rep := o.match(id, m)
	o.mu.Unlock()
	if err := o.commit(ctx, true, &Record{Kind: KindReport, Time: o.now(), Report: rep}); err != nil {
		return fmt.Errorf("outbox: report %s not recorded: %w", id, err)
	}
	return o.traceReport(ctx, rep)
}

func (o *Outbox) traceReport(ctx context.Context, rep *Report) error {
	if rep.MessageID == "" {
		text := "matches no message of the outbox"
		if rep.Problem != "" {
			text = rep.Problem
		}
		params := []string{"report:" + rep.ID}
		for _, v := range []string{rep.EnvelopeID, rep.OriginalMessageID, rep.InReplyTo} {
			if v != "" {
				params = append(params, v)
			}
		}
		err := o.guard.Record(context.WithoutCancel(ctx), o.event(ActionUnmatched, strings.ToUpper(string(rep.Kind)), params,
			trace.Response{OK: true, Text: text}, rep.OriginalMessageID))
		o.report(err)
		if o.guard.Policy == trace.FailClosed {
			return err
		}
		return nil
	}
	st, _ := o.Status(rep.MessageID)
	var first error
	for _, rr := range rep.Recipients {
		rc, ok := st.Recipient(rr.Address)
		if !ok {
			continue
		}
		text := string(rc.State)
		if rc.Reason != "" {
			text += ": " + rc.Reason
		}
		params := []string{"report:" + rep.ID, "<" + rc.Address + ">", "by:" + rep.MatchedBy}
		if rr.Action != "" {
			params = append(params, "action:"+rr.Action+" "+rr.Status)
		}
		if rr.Disposition != "" {
			params = append(params, "disposition:"+rr.Disposition)
		}
		err := o.guard.Record(context.WithoutCancel(ctx), o.event(ActionDelivery, strings.ToUpper(string(rep.Kind)), params,
			trace.Response{OK: rc.State != Failed, Text: text}, rep.MessageID))
		o.report(err)
		if first == nil {
			first = err
		}
	}
	if o.guard.Policy == trace.FailClosed {
		return first
	}
	return nil
}

// match reads the report and finds its message (o.mu held).
func (o *Outbox) match(id string, m *mssante.Received) *Report {
	rep := &Report{ID: id, InReplyTo: m.InReplyTo, References: slices.Clone(m.References)}
	if m.From != nil {
		rep.From = m.From.Address
	}
	switch m.Kind() {
	case mssante.KindDSN:
		rep.Kind = ReportDSN
		d, err := mssante.ParseDSN(m)
		if err != nil {
			rep.Problem = "unreadable DSN: " + oneLine(err.Error())
		}
		if d == nil {
			return rep
		}
		rep.EnvelopeID, rep.OriginalMessageID = strings.TrimSpace(d.OriginalEnvelopeID), d.OriginalMessageID
		for _, r := range d.Recipients {
			rr := ReportRecipient{Address: r.OriginalRecipient, Final: r.FinalRecipient, Action: r.Action, Status: r.Status,
				Diagnostic: oneLine(r.DiagnosticCode)}
			if rr.Address == "" {
				rr.Address, rr.Final = r.FinalRecipient, ""
			}
			rep.Recipients = append(rep.Recipients, rr)
		}
	case mssante.KindMDN:
		rep.Kind = ReportMDN
		d, err := mssante.ParseMDN(m)
		if err != nil {
			rep.Problem = "unreadable MDN: " + oneLine(err.Error())
		}
		if d == nil {
			return rep
		}
		rep.OriginalMessageID = d.OriginalMessageID
		rr := ReportRecipient{Address: d.OriginalRecipient, Final: d.FinalRecipient, Disposition: d.Type}
		if rr.Address == "" {
			rr.Address, rr.Final = d.FinalRecipient, ""
		}
		if rr.Address == "" {
			rr.Address = rep.From
		}
		if d.Error != nil {
			rr.ErrorCode, rr.ErrorLabel = d.Error.Code, d.Error.Label
			if rr.ErrorCode == 0 {
				rr.ErrorCode = mssante.IntegrationCodeFromSubject(m.Subject)
			}
		} else if c := mssante.IntegrationCodeFromSubject(m.Subject); c != 0 {
			// The KO subject of the ANS volet without the error in the
			// disposition: still an integration failure.
			rr.ErrorCode = c
		}
		rep.Recipients = append(rep.Recipients, rr)
	default:
		rep.Kind = ReportKind(strings.ToLower(m.Kind().String()))
		rep.Problem = "a report that is neither a DSN nor an MDN (" + string(m.ReportType) + ")"
		return rep
	}
	msgID, by := o.find(rep)
	if msgID == "" {
		if rep.Problem == "" {
			rep.Problem = "matches no message of the outbox"
		}
		return rep
	}
	rep.MessageID, rep.MatchedBy = msgID, by
	st := o.msgs[msgID]
	var strays []string
	for i := range rep.Recipients {
		rr := &rep.Recipients[i]
		switch {
		case hasRecipient(st, rr.Address):
		case rr.Final != "" && hasRecipient(st, rr.Final):
			rr.Address, rr.Final = rr.Final, rr.Address
		case len(st.Recipients) == 1:
			if rr.Final == "" {
				rr.Final = rr.Address
			}
			rr.Address = st.Recipients[0].Address
		default:
			strays = append(strays, rr.Address)
			continue
		}
		rc, _ := st.Recipient(rr.Address)
		rr.Address = rc.Address
	}
	if len(strays) > 0 {
		rep.Problem = "recipients not among the message's: " + strings.Join(strays, ", ")
	}
	return rep
}

func hasRecipient(st *Status, addr string) bool {
	if addr == "" {
		return false
	}
	_, ok := st.Recipient(addr)
	return ok
}

// find returns the message a report answers, and how it was found.
func (o *Outbox) find(rep *Report) (string, string) {
	if env := rep.EnvelopeID; env != "" {
		if id, ok := o.byEnv[env]; ok {
			return id, "Original-Envelope-Id"
		}
		if _, ok := o.msgs[mssante.NormalizeMessageID(env)]; ok {
			return mssante.NormalizeMessageID(env), "Original-Envelope-Id"
		}
	}
	if id := rep.OriginalMessageID; id != "" {
		if _, ok := o.msgs[id]; ok {
			return id, "Original-Message-ID"
		}
	}
	if id := rep.InReplyTo; id != "" {
		if _, ok := o.msgs[id]; ok {
			return id, "In-Reply-To"
		}
	}
	for i := len(rep.References) - 1; i >= 0; i-- {
		if _, ok := o.msgs[rep.References[i]]; ok {
			return rep.References[i], "References"
		}
	}
	return "", ""
}
