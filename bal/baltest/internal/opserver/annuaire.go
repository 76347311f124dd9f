// SPDX-License-Identifier: Apache-2.0

package opserver

import (
	"encoding/json"
	"fmt"

	"github.com/ecdaf744/gomss/annuaire/annuairetest"
	"github.com/ecdaf744/gomss/bal/baltest"
)

// startAnnuaire starts the Annuaire Santé FHIR fake (annuairetest) with a
// Practitioner for the CPS holder of the PKI, whose MSSanté mailbox is
// baltest.CPSUser, so that a client can resolve the operator's
// professional mailbox as on the national API.
func startAnnuaire(users []baltest.MailUser) (base, key string, srv *annuairetest.Server, err error) {
	key = randomToken()
	var res [][]byte
	for _, u := range users {
		if u.Address != baltest.CPSUser {
			continue
		}
		h := baltest.DefaultCPSHolder
		p := map[string]any{
			"resourceType": "Practitioner", "id": "003-" + h.IDNat, "active": true,
			"identifier": []any{
				map[string]any{"type": map[string]any{"coding": []any{map[string]any{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "code": "IDNPS"}}},
					"system": "urn:oid:1.2.250.1.71.4.2.1", "value": h.IDNat},
				map[string]any{"type": map[string]any{"coding": []any{map[string]any{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "code": "RPPS"}}},
					"system": "https://rpps.esante.gouv.fr", "value": h.IDNat[1:]},
			},
			"name": []any{map[string]any{"family": h.Surname, "given": []any{h.GivenName}}},
			"telecom": []any{map[string]any{"system": "email", "value": u.Address, "extension": []any{map[string]any{
				"url":         "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type",
				"valueCoding": map[string]any{"system": "https://mos.esante.gouv.fr/NOS/TRE_R256-TypeMessagerie/FHIR/TRE-R256-TypeMessagerie", "code": "MSSANTE"},
			}}}},
		}
		b, err := json.Marshal(p)
		if err != nil {
			return "", "", nil, err
		}
		res = append(res, b)
	}
	srv, err = annuairetest.NewServer(key, res...)
	if err != nil {
		return "", "", nil, fmt.Errorf("opserver: annuaire fake: %w", err)
	}
	return srv.BaseURL(), key, srv, nil
}
