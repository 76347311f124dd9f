package annuaire_test

import (
	"context"
	"fmt"
	"os"

	"github.com/ecdaf744/gomss/annuaire"
)

// Load the daily extraction and the liste blanche, then check recipients
// offline (add a Client to ask the API for what the extraction lacks).
func Example() {
	ctx := context.Background()
	var dir annuaire.Directory
	rep, err := dir.LoadFile(ctx, "../testdata/annuaire/Extraction_Correspondance_MSSante_202608250215.txt", annuaire.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Mailboxes, "mailboxes,", rep.ErrorCount, "malformed lines,", rep.Tolerated.Duplicates, "duplicate row")

	xml, _ := os.Open("../testdata/annuaire/listeblanche.xml")
	defer xml.Close()
	sum, _ := os.ReadFile("../testdata/annuaire/listeblanche.checksum")
	lb, err := annuaire.ReadListeBlanche(xml, string(sum))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := &annuaire.Resolver{Directory: &dir, ListeBlanche: lb}
	for _, v := range r.Check(ctx, []string{
		"heloise.fictif@medecin.mssante.fr",
		"279035121518989@patient.mssante.fr",
		"someone@example.com",
	}) {
		fmt.Printf("%s: %v: %s\n", v.Address, v.Kind, v.Reason)
	}
	// Output:
	// 20 mailboxes, 0 malformed lines, 1 duplicate row
	// heloise.fictif@medecin.mssante.fr: mssante: published in the bulk extraction as PER mailbox of Héloïse FICTIF, Médecin; domain in the liste blanche
	// 279035121518989@patient.mssante.fr: patient: Mon espace santé address of a patient (matricule INS @ patient.mssante.fr)
	// someone@example.com: unknown: not published in the Annuaire Santé and the domain example.com is not in the liste blanche: not an MSSanté address
}

// Search the offline index by name, ignoring case and accents.
func ExampleIndex_SearchName() {
	ix, err := annuaire.LoadIndexFile(context.Background(), "../testdata/annuaire/Extraction_Correspondance_MSSante_202608250215.txt", annuaire.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for m := range ix.SearchName("lefevre", "jer") {
		fmt.Println(m.Address, m.Owner.Family, m.Owner.Given, m.Owner.Profession.Label)
	}
	// Output:
	// jerome.lefevre@chirurgien-dentiste.mssante.fr LEFÈVRE Jérôme Chirurgien-Dentiste
}

// Ask the Annuaire Santé API who is behind an address.
func ExampleClient_ResolveMailbox() {
	c := &annuaire.Client{APIKey: os.Getenv("ESANTE_API_KEY")}
	if c.APIKey == "" {
		fmt.Println("set ESANTE_API_KEY to run against the national gateway")
		return
	}
	ms, err := c.ResolveMailbox(context.Background(), "secretariat@example.mssante.fr")
	fmt.Println(len(ms), err)
}
