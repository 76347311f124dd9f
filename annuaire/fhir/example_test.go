// SPDX-License-Identifier: Apache-2.0

package fhir_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/ecdaf744/gomss/annuaire/fhir"
)

// Ask the Annuaire Santé API who is behind an address. It needs a key of
// the ANS gateway in ESANTE_API_KEY, so it is only compiled here;
// TestResolveMailbox runs the same call against the fake API of
// annuaire/annuairetest.
func ExampleClient_ResolveMailbox() {
	c := &fhir.Client{APIKey: os.Getenv("ESANTE_API_KEY")}
	ms, err := c.ResolveMailbox(context.Background(), "secretariat@example.mssante.fr")
	if err != nil {
		log.Fatal(err)
	}
	if len(ms) == 0 {
		fmt.Println("unknown to the Annuaire Santé")
	}
	for _, m := range ms {
		fmt.Println(m.Address, m.Type, m.Resource, m.Structure.Name)
	}
}
