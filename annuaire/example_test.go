// SPDX-License-Identifier: Apache-2.0

package annuaire_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/ecdaf744/gomss/annuaire/extraction"
	"github.com/ecdaf744/gomss/annuaire/listeblanche"
)

// Load the daily extraction and the liste blanche, then check recipients
// offline (add a fhir.Client as API to ask for what the extraction lacks). A
// program reloads the extraction it downloads each day with
// Directory.LoadFile, lookups going on meanwhile.
func Example() {
	ctx := context.Background()
	ix, err := extraction.LoadIndex(ctx, strings.NewReader(extractionText), extraction.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	rep := ix.Report()
	fmt.Println(rep.Mailboxes, "mailboxes on", rep.Rows, "rows,", rep.ErrorCount, "malformed lines,", rep.Tolerated.Duplicates, "duplicate row")
	var dir extraction.Directory
	if err := dir.Swap(ix); err != nil {
		log.Fatal(err)
	}

	lb, err := listeblanche.Read(strings.NewReader(listeBlanche), listeBlancheChecksum)
	if err != nil {
		log.Fatal(err)
	}
	r := &annuaire.Resolver{Offline: &dir, Trust: lb}
	for _, v := range r.Check(ctx, []string{
		"heloise.fictif@medecin.mssante.fr",
		"279035121518989@patient.mssante.fr",
		"someone@example.com",
	}) {
		fmt.Printf("%s: %v: %s\n", v.Address, v.Kind, v.Reason)
	}
	// Output:
	// 3 mailboxes on 4 rows, 0 malformed lines, 1 duplicate row
	// heloise.fictif@medecin.mssante.fr: mssante: published in the bulk extraction as PER mailbox of Héloïse FICTIF, Médecin; domain in the liste blanche
	// 279035121518989@patient.mssante.fr: patient: Mon espace santé address of a patient (matricule INS @ patient.mssante.fr)
	// someone@example.com: unknown: not published in the Annuaire Santé and the domain example.com is not in the liste blanche: not an MSSanté address
}

// extractionText is an excerpt of the daily Extraction_Correspondance_MSSante
// (fictitious people): its header line (the 31 ColumnNames) and five rows.
// Raphaël CABINET's mailbox is attached to two structures, so on two rows;
// the last row repeats an earlier one.
var extractionText = strings.Join(extraction.ColumnNames(), "|") + "\n" +
	"PER|heloise.fictif@medecin.mssante.fr|8|10000000025|810000000025|1|1130000003||DR|FICTIF|Héloïse|C|Civil|10|Médecin|SM04|Cardiologie et maladies vasculaires|true|CENTRE HOSPITALIER D'EXEMPLE|CH EXEMPLE||BP 12|1||BD|DE LA MER||13005 MARSEILLE|13005|13|FRANCE\n" +
	"PER|jerome.lefevre@chirurgien-dentiste.mssante.fr|8|10000000074|810000000074|4|41000000007401||DR|LEFÈVRE|Jérôme|C|Civil|40|Chirurgien-Dentiste|||true|CABINET DENTAIRE FICTIF||||8||PL|DU MARCHE||33000 BORDEAUX|33000|33|FRANCE\n" +
	"PER|raphael.cab@clinique-hélios.mssante.fr|8|10000000132|810000000132|1|1750000010||DR|CABINET|Raphaël|C|Civil|10|Médecin|SM54|Médecine générale|true|CLINIQUE HELIOS (FICTIVE)||||40||R|DU SOLEIL||75014 PARIS|75014|75|FRANCE\n" +
	"PER|raphael.cab@clinique-hélios.mssante.fr|8|10000000132|810000000132|3|375000000200014||DR|CABINET|Raphaël|C|Civil|10|Médecin|SM54|Médecine générale|true|CABINET MEDICAL EXEMPLE||||12||R|DE LA REPUBLIQUE||75011 PARIS|75011|75|FRANCE\n" +
	"PER|jerome.lefevre@chirurgien-dentiste.mssante.fr|8|10000000074|810000000074|4|41000000007401||DR|LEFÈVRE|Jérôme|C|Civil|40|Chirurgien-Dentiste|||true|CABINET DENTAIRE FICTIF||||8||PL|DU MARCHE||33000 BORDEAUX|33000|33|FRANCE\n"

// listeBlanche is a liste blanche of one domain (fictitious operator), and
// listeBlancheChecksum the SHA-256 the ANS publishes beside it.
const (
	listeBlanche = `<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">
    <DateDeGeneration>2026-08-25T02:14:07Z</DateDeGeneration>
    <ListeDomaines>
        <Domaine>
            <Nom>medecin.mssante.fr</Nom>
            <Description>Domaine national des médecins (fictif)</Description>
            <DNCertificatOperateur>CN=smtp.operateur-a.test,OU=10000000000001,O=OPERATEUR A (FICTIF),ST=Paris (75),C=FR</DNCertificatOperateur>
            <ResponsableContact>01 00 00 00 01, responsable@operateur-a.test</ResponsableContact>
            <SupportContact>01 00 00 00 02, support@operateur-a.test</SupportContact>
            <DateMAJ>2026-08-01T10:00:00Z</DateMAJ>
        </Domaine>
    </ListeDomaines>
</ListeBlancheMSSante>
`
	listeBlancheChecksum = "21887114c73df82a65ad0b66df4f352767688066a910afa3407782b87767651d"
)
