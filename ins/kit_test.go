// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/internal/testenv"
	"github.com/stretchr/testify/require"
)

// n1Header is a minimal CI-SIS level-1 document (structure of the ANS
// TestContenuCDA 3.0 level-1 example, values from the kit's value sets J01,
// J02, J04, J07), written for this test so that the recordTarget it wraps is
// judged by the official StrucMin schematron. The cda package builds real
// headers; this one only frames the patient.
const n1Header = `<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.2.8.2.1"/>
  <templateId root="1.2.250.1.213.1.1.1.1"/>
  <templateId root="1.3.6.1.4.1.19376.1.2.20"/>
  <id root="1.2.250.1.999.42.1.1"/>
  <code code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="CR ou fiche de consultation ou de visite"/>
  <title>Compte rendu de consultation</title>
  <effectiveTime value="20261124101500+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25" displayName="Normal"/>
  <languageCode code="fr-FR"/>
  <setId root="1.2.250.1.999.42.1.2"/>
  <versionNumber value="1"/>
  %s
  <author>
    <time value="20261124101500+0100"/>
    <assignedAuthor>
      <id root="1.2.250.1.71.4.2.1" extension="801234567890"/>
      <code code="G15_10" codeSystem="1.2.250.1.213.1.1.4.5" displayName="Médecin"/>
      <assignedPerson><name><family>MEDECIN</family><given>TEST</given></name></assignedPerson>
      <representedOrganization>
        <id root="1.2.250.1.71.4.2.2" extension="1750803447"/>
        <name>Cabinet de test</name>
      </representedOrganization>
    </assignedAuthor>
  </author>
  <custodian>
    <assignedCustodian>
      <representedCustodianOrganization>
        <id root="1.2.250.1.71.4.2.2" extension="1750803447"/>
        <name>Cabinet de test</name>
      </representedCustodianOrganization>
    </assignedCustodian>
  </custodian>
  <legalAuthenticator>
    <time value="20261124101500+0100"/>
    <signatureCode code="S"/>
    <assignedEntity>
      <id root="1.2.250.1.71.4.2.1" extension="801234567890"/>
      <assignedPerson><name><family>MEDECIN</family><given>TEST</given></name></assignedPerson>
    </assignedEntity>
  </legalAuthenticator>
  <documentationOf>
    <serviceEvent>
      <effectiveTime><low value="20261124100000+0100"/></effectiveTime>
      <performer typeCode="PRF">
        <assignedEntity>
          <id root="1.2.250.1.71.4.2.1" extension="801234567890"/>
          <representedOrganization>
            <standardIndustryClassCode code="AMBULATOIRE" codeSystem="1.2.250.1.213.1.1.4.9" displayName="Ambulatoire"/>
          </representedOrganization>
        </assignedEntity>
      </performer>
    </serviceEvent>
  </documentationOf>
  <componentOf>
    <encompassingEncounter>
      <effectiveTime><low value="20261124100000+0100"/></effectiveTime>
      <location>
        <healthCareFacility>
          <code code="SA07" codeSystem="1.2.250.1.71.4.2.4" displayName="Cabinet individuel"/>
        </healthCareFacility>
      </location>
    </encompassingEncounter>
  </componentOf>
  <component>
    <nonXMLBody>
      <text mediaType="text/plain" representation="B64">Q29tcHRlIHJlbmR1IGRlIHRlc3Q=</text>
    </nonXMLBody>
  </component>
</ClinicalDocument>
`

// TestRecordTargetANSKit runs the ANS validators (CDA schema + StrucMin
// schematron, ../shared/cda-kit) on documents framing the recordTargets this
// package writes: a qualified identity (INS + IPP), a provisional one (IPP
// only, traits incomplete), and, as a negative control that proves the
// validator fires, a qualified recordTarget with its birth place removed.
func TestRecordTargetANSKit(t *testing.T) {
	kit := os.Getenv("MSS_CDA_KIT")
	if kit == "" {
		testenv.Missing(t, "cda-kit", "MSS_CDA_KIT is not set")
		return
	}
	script := filepath.Join(kit, "validate-cda.sh")
	if _, err := os.Stat(script); err != nil {
		testenv.Missing(t, "cda-kit", err.Error())
		return
	}
	testenv.LookPath(t, "java", "java")
	testenv.LookPath(t, "xmllint", "xmllint")

	good, bad := t.TempDir(), t.TempDir()
	write := func(dir, name string, id Identity, edit func(string) string) {
		rt, err := id.RecordTarget()
		require.NoError(t, err, "%s", name)
		s := xmlString(rt)
		if edit != nil {
			s = edit(s)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, n1Header, s), 0o644))
	}
	write(good, "qualified.xml", testIdentity(t), nil)
	prov := testIdentity(t)
	prov.Status = Provisional
	prov.Traits = Traits{BirthFamilyName: "PAT-TROIS", BirthGivenNames: "DOMINIQUE", BirthDate: Date{1979, 3, 28}, Sex: Unknown}
	write(good, "provisional.xml", prov, nil)
	write(bad, "no-county.xml", testIdentity(t), func(s string) string {
		return strings.Replace(s, "<county>51215</county>", "", 1)
	})

	run := func(dir string) (string, error) {
		cmd := exec.Command("bash", script, dir)
		if os.Getenv("CDA_KIT_CACHE") == "" {
			cmd.Env = append(os.Environ(), "CDA_KIT_CACHE="+filepath.Join(os.TempDir(), "gomss-cda-kit-cache"))
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(good)
	if err != nil || !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("ANS kit rejected our recordTargets (%v):\n%s", err, out)
	}
	out, err = run(bad)
	if err == nil || !strings.Contains(out, "0 passed, 1 failed") {
		t.Fatalf("negative control: the kit should reject an INS without birth place (%v):\n%s", err, out)
	}
	t.Logf("ANS kit: qualified and provisional recordTargets pass; INS without COG fails as it must")
}
