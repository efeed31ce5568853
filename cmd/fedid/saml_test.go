package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedid/fedid/internal/samltest"
)

func TestSAMLProvidersCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	idp, err := samltest.New("https://idp.example/metadata", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "metadata.xml")
	if err := os.WriteFile(md, []byte(idp.Metadata()), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.xml")
	if err := os.WriteFile(bad, []byte(strings.Repeat("x", 1200)), 0o600); err != nil {
		t.Fatal(err)
	}
	do := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, &out, &errb)
		return out.String(), err
	}
	if _, err := do("keys", "create", "--db", db, "--create", "--account", "111111111111"); err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:iam::111111111111:saml-provider/corp"
	if out, err := do("saml-providers", "add", "--db", db, "--account", "111111111111", "--name", "corp", "--metadata", md); err != nil || out != arn+"\n" {
		t.Fatalf("add: %q %v", out, err)
	}
	for args, want := range map[string]string{
		"--name corp":                           "--name and --metadata are required",
		"--name bad/name --metadata " + md:      "failed to satisfy constraint",
		"--name corp2 --metadata " + bad:        "Could not parse metadata",
		"--name corp2 --metadata " + dir:        "is a directory",
		"--name c --account 1 --metadata " + md: "must be 12 digits",
	} {
		_, err := do(append([]string{"saml-providers", "add", "--db", db}, strings.Fields(args)...)...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
	out, err := do("saml-providers", "list", "--db", db, "--account", "111111111111")
	if err != nil || !strings.HasPrefix(out, arn+"\tentityID=https://idp.example/metadata\tcreated=") || strings.Count(out, "\n") != 1 {
		t.Fatalf("list: %q %v", out, err)
	}
	if out, err := do("saml-providers", "remove", "--db", db, "--arn", arn); err != nil || out != "removed "+arn+"\n" {
		t.Fatalf("remove: %q %v", out, err)
	}
	if _, err := do("saml-providers", "remove", "--db", db, "--arn", arn); err == nil {
		t.Fatal("second remove accepted")
	}
	if out, err := do("saml-providers", "list", "--db", db, "--account", "111111111111"); err != nil || out != "" {
		t.Fatalf("list after remove: %q %v", out, err)
	}
}
