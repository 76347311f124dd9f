// SPDX-License-Identifier: Apache-2.0

package opserver

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/annuaire/annuairetest"
	"github.com/ecdaf744/gomss/bal/baltest"
)

// writeAnnuaireFiles writes into dir what a client reads offline about the
// trust space, in the published formats, naming the operator's mailboxes:
//
//   - an extraction of the Annuaire Santé (Extraction_Correspondance_MSSante_<date>.txt:
//     the 31 pipe-separated columns of annuairetest.Header, one row per
//     mailbox: the CPS holder's personal mailbox, the applicative and the
//     organisational ones);
//   - a liste blanche (listeblanche.xml and its listeblanche.checksum, the
//     hexadecimal SHA-256 the ANS publishes beside it) listing the
//     operator's domains with the server certificate's subject as
//     DNCertificatOperateur.
//
// Everything in them is fictitious.
func writeAnnuaireFiles(dir string, op *baltest.Operator, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("opserver: %w", err)
	}
	now := time.Now().UTC()
	h := baltest.DefaultCPSHolder
	var b strings.Builder
	b.WriteString(annuairetest.Header + "\n")
	for _, u := range op.Users {
		c := make([]string, 31) // the columns of annuairetest.Header
		c[1] = u.Address
		c[5], c[6] = "1", "10000000000001" // a fictitious FINESS-like structure
		c[17], c[18] = "true", "OPERATEUR DE TEST (FICTIF)"
		c[22], c[24], c[25], c[27], c[28], c[29], c[30] = "1", "RUE", "DE L'EXEMPLE", "75011 PARIS", "75011", "75", "FRANCE"
		switch u.Address {
		case baltest.CPSUser:
			c[0], c[2], c[3], c[4] = "PER", "8", h.IDNat[1:], h.IDNat
			c[8], c[9], c[10] = "DR", h.Surname, capitalised(h.GivenName)
			c[11], c[12], c[13], c[14], c[15], c[16] = "C", "Civil", "10", "Médecin", "SM54", "Médecine générale"
		case baltest.ORGUser:
			c[0], c[7] = "APP", "LPS de test"
		default:
			c[0], c[7] = "ORG", "Secrétariat"
		}
		b.WriteString(strings.Join(c, "|") + "\n")
	}
	ext := filepath.Join(dir, "Extraction_Correspondance_MSSante_"+now.Format("200601021504")+".txt")
	if err := os.WriteFile(ext, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("opserver: %w", err)
	}
	files["extraction"] = ext

	var lb strings.Builder
	fmt.Fprintf(&lb, `<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">`+"\n")
	fmt.Fprintf(&lb, "  <DateDeGeneration>%s</DateDeGeneration>\n  <ListeDomaines>\n", now.Format(time.RFC3339))
	seen := map[string]bool{}
	for _, u := range op.Users {
		d := strings.ToLower(u.Address[strings.LastIndexByte(u.Address, '@')+1:])
		if seen[d] {
			continue
		}
		seen[d] = true
		fmt.Fprintf(&lb, "    <Domaine>\n      <Nom>%s</Nom>\n      <Description>Operateur MSSante de test (fictif)</Description>\n", d)
		fmt.Fprintf(&lb, "      <DNCertificatOperateur>%s</DNCertificatOperateur>\n", xmlEscape(op.PKI.Server.Cert.Subject.String()))
		fmt.Fprintf(&lb, "      <ResponsableContact>00 00 00 00 00, responsable@%s</ResponsableContact>\n", d)
		fmt.Fprintf(&lb, "      <SupportContact>00 00 00 00 00, support@%s</SupportContact>\n", d)
		fmt.Fprintf(&lb, "      <DateMAJ>%s</DateMAJ>\n    </Domaine>\n", now.Format(time.RFC3339))
	}
	lb.WriteString("  </ListeDomaines>\n</ListeBlancheMSSante>\n")
	sum := sha256.Sum256([]byte(lb.String()))
	xmlPath, sumPath := filepath.Join(dir, "listeblanche.xml"), filepath.Join(dir, "listeblanche.checksum")
	if err := os.WriteFile(xmlPath, []byte(lb.String()), 0o644); err != nil {
		return fmt.Errorf("opserver: %w", err)
	}
	if err := os.WriteFile(sumPath, []byte(hex.EncodeToString(sum[:])), 0o644); err != nil {
		return fmt.Errorf("opserver: %w", err)
	}
	files["listeBlanche"], files["listeBlancheChecksum"] = xmlPath, sumPath
	return nil
}

func capitalised(s string) string {
	if s == "" {
		return s
	}
	return s[:1] + strings.ToLower(s[1:])
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
