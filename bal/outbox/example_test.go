// SPDX-License-Identifier: Apache-2.0

package outbox_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/outbox"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// The applicative BAL of a practice's software writes to a colleague
// through the durable outbox: the message is on disk (fsync) before its
// first attempt, sent by Run (again only when it is not known to have been
// accepted), and the DSN and MDN that come back, read by the BAL's own
// receive loop, are reconciled with it. The program prints where the
// message stands for each recipient: submitted, delivered (the DSN),
// processed (the MDN), or failed with the reason to show the user.
//
// Run the program again after a crash: the outbox in its folder sends
// what was left, and the Ref finds the message queued the first time
// instead of queueing it twice.
//
// It needs an MSSanté operator (its servers named by the DNS SRV records
// of the BAL's domain), the BAL's PKCS#12 file (password in
// MSS_P12_PASSWORD), the IGC-Santé roots (PEM) and the note keys of the
// trace log (MSS_TRACE_SIGNER, MSS_TRACE_VERIFIER). So it is not run
// here: TestExample runs trackedBAL.send against the in-process test
// operator of bal/baltest.
func Example() {
	lps := &trackedBAL{
		Address:       "lps@centre-lilas.mssante.fr",
		PKCS12:        "lps.p12",
		Password:      os.Getenv("MSS_P12_PASSWORD"),
		Roots:         "igc-sante-roots.pem",
		TraceLog:      "trace.jsonl",
		TraceSigner:   os.Getenv("MSS_TRACE_SIGNER"),
		TraceVerifier: os.Getenv("MSS_TRACE_VERIFIER"),
		Outbox:        "outbox",
		Wait:          10 * time.Minute,
	}
	msg := &mssante.Message{
		From:        mssante.Sender{Address: lps.Address, Kind: mssante.Applicative, Entity: "Centre de santé des Lilas"},
		To:          []string{"secretariat@chu-exemple.mssante.fr"},
		Subject:     "Rendez-vous de contrôle",
		Text:        "Bonjour,\r\n\r\nLe contrôle est prévu le 12 janvier à 10 h.\r\n",
		Product:     "DEV935997",
		ReadReceipt: true,
		DSN:         mssante.DSN{Notify: []string{"SUCCESS", "FAILURE", "DELAY"}},
	}
	st, err := lps.send(context.Background(), msg, "rdv-2027-0112")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.MessageID, st.Phase)
	for _, r := range st.Recipients {
		fmt.Println(r.Address, r.State, r.Reason)
	}
}

// trackedBAL is the applicative BAL, what it needs to reach its operator,
// and the folder of its outbox.
type trackedBAL struct {
	Address  string
	Operator bal.Operator // explicit endpoints; the others found by DNS SRV
	PKCS12   string       // the BAL's software certificate
	Password string
	Roots    string // IGC-Santé roots, the only ones trusted
	// The trace log of every action, and its note keys.
	TraceLog, TraceSigner, TraceVerifier string
	// Outbox is the journal's folder (one process at a time).
	Outbox string
	// Wait bounds how long send waits for the DSN and the MDN.
	Wait time.Duration
}

// send queues msg in the outbox under the caller's ref, lets Run send it,
// and reads the BAL's INBOX until every recipient has its answer (the
// message is settled) or Wait has passed; it returns the message's
// tracked status.
func (b *trackedBAL) send(ctx context.Context, msg *mssante.Message, ref string) (st *outbox.Status, err error) {
	pfx, err := os.ReadFile(b.PKCS12)
	if err != nil {
		return nil, err
	}
	cert, err := bal.NewCertificateFromPKCS12(pfx, b.Password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.PKCS12, err)
	}
	roots, err := readRoots(b.Roots)
	if err != nil {
		return nil, err
	}
	_, domain, _ := strings.Cut(b.Address, "@")
	op, err := bal.Discover(ctx, domain, net.DefaultResolver, b.Operator)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(b.TraceSigner)
	if err != nil {
		return nil, fmt.Errorf("trace signer key: %w", err)
	}
	verifier, err := note.NewVerifier(b.TraceVerifier)
	if err != nil {
		return nil, fmt.Errorf("trace verifier key: %w", err)
	}
	traces, err := trace.OpenFileLog(trace.FileLogConfig{Path: b.TraceLog, Signer: signer, Verifier: verifier, Durable: true})
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := traces.Close(); err == nil {
			err = cerr
		}
	}()
	trust := &bal.Trust{Roots: roots}
	mailbox := trace.Mailbox{Address: b.Address, Kind: "APP"}
	sender := &bal.Sender{Server: op.SMTP, Trust: trust, Auth: cert, Mailbox: mailbox, Trace: traces}
	receiver := &bal.Receiver{Server: op.IMAP, Trust: trust, Auth: cert, Mailbox: mailbox, Trace: traces}

	// The outbox: its journal, then Run, which sends what is due (what
	// an earlier run left too) until ctx ends.
	journal, err := outbox.OpenJournal(b.Outbox, nil)
	if err != nil {
		return nil, err
	}
	ob, err := outbox.Open(ctx, outbox.Config{Store: journal, Sender: sender,
		OnError: func(err error) { log.Println("outbox:", err) }})
	if err != nil {
		return nil, errors.Join(err, journal.Close())
	}
	defer func() {
		if cerr := ob.Close(); err == nil {
			err = cerr
		}
	}()
	rctx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- ob.Run(rctx) }()
	defer func() {
		stop()
		if rerr := <-ran; err == nil {
			err = rerr
		}
	}()

	// Durable when Enqueue returns; the patient's opposition is asked
	// first when sender.Oppositions is set. The same ref again (after a
	// crash) returns the message queued under it.
	st, err = ob.Enqueue(ctx, msg, outbox.EnqueueOptions{Ref: ref})
	if err != nil {
		return nil, err
	}
	id := st.MessageID

	// The BAL's receive loop gives every DSN and MDN it reads to the
	// outbox (Reports) before filing it in Traites. This program only
	// sends: a document that comes is answered as not integrated and
	// filed in Erreurs; the software plugs its integration in Handler
	// (see bal.Example).
	loop := &bal.Loop{Receiver: receiver, Sender: sender, From: msg.From, Product: msg.Product, Reports: ob,
		Handler: func(context.Context, *mssante.Received) error {
			return errors.New("this program does not integrate documents")
		}}
	deadline := time.Now().Add(b.Wait)
	for {
		if _, err := loop.ProcessOnce(ctx); err != nil {
			return nil, err
		}
		st, _ = ob.Status(id)
		if st.Settled() || time.Now().After(deadline) {
			return st, nil
		}
		select {
		case err := <-ran:
			ran <- err // for the deferred stop
			return st, fmt.Errorf("outbox stopped: %w", err)
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// readRoots reads the IGC-Santé root certificates from a PEM file.
func readRoots(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var roots []*x509.Certificate
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		roots = append(roots, c)
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("%s: no certificate", path)
	}
	return roots, nil
}
