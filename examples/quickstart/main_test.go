package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(&out, dir); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH",
		"INS withheld",
		`<id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>`,
		"279035121518989@patient.mssante.fr",
		"class 10, format urn:ihe:iti:xds-sd:pdf:2008",
		"hash and size verified",
		"PDF identical",
		"0 rule broken",
		"automatic-action/MDN-sent-automatically; processed",
		"DSN requested true",
		"MDN sent, message moved to Traites",
		"DSN delivered 2.0.0, MDN processed",
		"trace verified:",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "recordTarget.xml"))
	if err != nil || !bytes.Contains(b, []byte("<recordTarget>")) {
		t.Fatalf("recordTarget.xml: %v", err)
	}
	for _, name := range []string{"DOC0001.XML", "IHE_XDM.ZIP", "message.eml", "mdn.eml", "trace.jsonl"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() < 1000 {
			t.Errorf("%s not written: %v", name, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "trace.jsonl.checkpoints")); err != nil || !bytes.Contains(b, []byte("gomss-quickstart")) {
		t.Errorf("no signed checkpoint written: %v", err)
	}
}
