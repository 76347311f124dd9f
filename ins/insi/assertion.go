// SPDX-License-Identifier: Apache-2.0

package insi

import (
	"bytes"
	"fmt"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// The assertion PS of CPx mode, as observed in an assertion the
// qualification platform accepted (padoa/tlsi-ins, fixture
// assertionPsSecurity, 2022) and as allowed by saml-schema-assertion-2.0.xsd
// (element order Issuer, Signature, Subject, statements):
//
//	<Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" ID="_…" IssueInstant="…" Version="2.0">
//	  <Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">subject DN of the card certificate</Issuer>
//	  <ds:Signature>enveloped, exc-c14n, rsa-sha256, sha256, KeyInfo/X509Data of the card</ds:Signature>
//	  <Subject><NameID NameQualifier="CPS">card's national identifier</NameID></Subject>
//	  <AttributeStatement>identifiantFacturation, secteurActivite</AttributeStatement>
//	</Assertion>
//
// The signature is made by github.com/russellhaering/goxmldsig over etree;
// no canonicalisation is written here.
const (
	formatX509SubjectName = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
	// AttrBillingID and AttrSector are the names of the assertion's
	// attributes.
	AttrBillingID = "identifiantFacturation"
	AttrSector    = "secteurActivite"
)

func (c *CPx) writeAssertion(b *bytes.Buffer, now time.Time, id string) error {
	a := etree.NewElement("Assertion")
	a.CreateAttr("xmlns", NSSAML)
	a.CreateAttr("ID", id)
	a.CreateAttr("IssueInstant", now.UTC().Format(timeLayout))
	a.CreateAttr("Version", "2.0")
	issuer := a.CreateElement("Issuer")
	issuer.CreateAttr("Format", formatX509SubjectName)
	issuer.SetText(c.cert.Subject.String())
	subject := a.CreateElement("Subject")
	nameID := subject.CreateElement("NameID")
	nameID.CreateAttr("NameQualifier", "CPS")
	nameID.SetText(c.emitter)
	if c.opts.BillingID != "" || c.opts.Sector != "" {
		st := a.CreateElement("AttributeStatement")
		for _, attr := range []struct{ name, v string }{{AttrBillingID, c.opts.BillingID}, {AttrSector, c.opts.Sector}} {
			if attr.v == "" {
				continue
			}
			e := st.CreateElement("Attribute")
			e.CreateAttr("Name", attr.name)
			e.CreateElement("AttributeValue").SetText(attr.v)
		}
	}

	ctx, err := dsig.NewSigningContext(c.signer, [][]byte{c.cert.Raw})
	if err != nil {
		return configErrorf("insi: CPx: %w", err)
	}
	ctx.IdAttribute = "ID"
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return configErrorf("insi: CPx: %w", err)
	}
	sig, err := ctx.ConstructSignature(a, true)
	if err != nil {
		// A card that refuses to sign (PIN, removed card) ends here.
		return fmt.Errorf("insi: CPx: signing the assertion with the card's key: %w", err)
	}
	// The schema wants the Signature right after Issuer.
	a.InsertChildAt(issuer.Index()+1, sig)

	doc := etree.NewDocument()
	doc.SetRoot(a)
	if _, err := doc.WriteTo(b); err != nil {
		return fmt.Errorf("insi: CPx: writing the assertion: %w", err)
	}
	return nil
}
