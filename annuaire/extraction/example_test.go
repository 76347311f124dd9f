// SPDX-License-Identifier: Apache-2.0

package extraction_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/ecdaf744/gomss/annuaire/extraction"
)

// Search the offline index by name, ignoring case and accents.
func ExampleIndex_SearchName() {
	ix, err := extraction.LoadIndex(context.Background(), strings.NewReader(extractionText), extraction.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for m := range ix.SearchName("lefevre", "jer") {
		fmt.Println(m.Address, m.Owner.Family, m.Owner.Given, m.Owner.Profession.Label)
	}
	// Output:
	// jerome.lefevre@chirurgien-dentiste.mssante.fr LEFÈVRE Jérôme Chirurgien-Dentiste
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
