package bal_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/ecdaf744/gomss/trace"
)

// Send a report from an applicative BAL with its software certificate,
// receive it in the recipient's mailbox, acknowledge it with an MDN — here
// on the embedded test operator; against a real operator, give its
// endpoints (or bal.Discover), the IGC-Santé roots and the BAL's PKCS#12.
func Example() {
	ctx := context.Background()
	pki, _ := baltest.NewPKI(nil)
	crls, _ := pki.ServeCRL()
	defer crls.Close()
	op, _ := baltest.StartOperator(&baltest.OperatorConfig{PKI: pki})
	defer op.Close()
	ep := func(addr string) bal.Endpoint {
		h, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		return bal.Endpoint{Host: h, Port: n}
	}
	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}}
	traces := trace.RecorderFunc(func(context.Context, trace.Event) error { return nil }) // use a trace.FileLog

	// The applicative BAL's software certificate (bal.NewCertificateFromPKCS12 for a .p12 file).
	lps, _ := bal.NewCertificate(pki.ORG.TLSCertificate())
	sender := &bal.Sender{Server: ep(op.SMTPAddr), ServerName: "localhost", Trust: trust, Auth: lps,
		Mailbox: trace.Mailbox{Address: baltest.ORGUser, Kind: "APP"}, Trace: traces}
	m := &mssante.Message{
		From: mssante.Sender{Address: baltest.ORGUser, Kind: mssante.Applicative, Entity: "Centre de santé des Lilas"},
		To:   []string{baltest.CPSUser},
		Text: "Compte rendu ci-joint.",
		// A CDA header (cda.ExampleWrite shows its fields) and the PDF it carries.
		Documents:   []mssante.Document{{Header: testdocs.Header(testdocs.Patient("test", true), "11488-4", time.Now()), PDF: mssante.BytesOpener(testdocs.PDF("CR", 4000))}},
		XDM:         xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
		Product:     "DEV000000",
		ReadReceipt: true,
	}
	res, err := sender.Send(ctx, m)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("accepted:", res.Accepted)

	// The recipient's receive loop: handler first, then MDN and move.
	doctor, _ := bal.NewCertificate(pki.CPS.TLSCertificate())
	loop := &bal.Loop{
		Receiver: &bal.Receiver{Server: ep(op.IMAPAddr), ServerName: "localhost", Trust: trust, Auth: doctor,
			Mailbox: trace.Mailbox{Address: baltest.CPSUser, Kind: "PER"}, Trace: traces},
		Sender: &bal.Sender{Server: ep(op.SMTPAddr), ServerName: "localhost", Trust: trust, Auth: doctor,
			Mailbox: trace.Mailbox{Address: baltest.CPSUser, Kind: "PER"}, Trace: traces},
		From:    mssante.Sender{Address: baltest.CPSUser, Kind: mssante.Personal, GivenName: "Jean", FamilyName: "Dupont"},
		Product: "DEV000000",
		Handler: func(_ context.Context, r *mssante.Received) error {
			fmt.Println("integrating:", r.DisplaySubject())
			return r.XDM.Verify()
		},
	}
	n, err := loop.ProcessOnce(ctx)
	fmt.Println("handled:", n, err)
	// Output:
	// accepted: [jean.dupont@test.mssante.fr]
	// integrating: Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979
	// handled: 1 <nil>
}
