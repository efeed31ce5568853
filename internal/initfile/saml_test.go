package initfile_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedid/fedid/internal/initfile"
	"github.com/fedid/fedid/internal/samltest"
)

func TestSamlProviders(t *testing.T) {
	e := newEnv(t)
	idp, err := samltest.New("https://idp.example/metadata", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	other, err := samltest.New("https://other.example/metadata", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	indent := func(s string) string { return "      " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n      ") }
	path := write(t, `SamlProviders:
  - Account: "111111111111"
    Name: corp
    MetadataFile: corp.xml
  - Account: "111111111111"
    Name: other
    Metadata: |
`+indent(other.Metadata())+`
IdentityPools:
  - Account: "111111111111"
    IdentityPoolName: saml
    AllowUnauthenticatedIdentities: false
    SamlProviderARNs: [arn:aws:iam::111111111111:saml-provider/corp, arn:aws:iam::111111111111:saml-provider/other]
`)
	md := filepath.Join(filepath.Dir(path), "corp.xml")
	if err := os.WriteFile(md, []byte(idp.Metadata()), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.apply(t, load(t, path)); r.Created != 3 || r.Updated != 0 || r.Unchanged != 0 {
		t.Fatalf("first apply: %v", r)
	}
	if r := e.apply(t, load(t, path)); r.Created != 0 || r.Updated != 0 || r.Unchanged != 3 {
		t.Fatalf("second apply: %v", r)
	}
	p, err := e.st.GetSAMLProvider(ctx, "arn:aws:iam::111111111111:saml-provider/corp")
	if err != nil || p.Metadata != idp.Metadata() {
		t.Fatalf("stored: %+v %v", p, err)
	}
	created := p.CreatedAt
	// A new document replaces the old one and keeps the creation date.
	if err := os.WriteFile(md, []byte(other.Metadata()), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.apply(t, load(t, path)); r.Updated != 1 || r.Unchanged != 2 {
		t.Fatalf("changed document: %v", r)
	}
	if p, err := e.st.GetSAMLProvider(ctx, "arn:aws:iam::111111111111:saml-provider/corp"); err != nil || p.Metadata != other.Metadata() || !p.CreatedAt.Equal(created) {
		t.Fatalf("replaced: %+v %v", p, err)
	}

	// Export, apply to an empty store, export again: the same file.
	first, err := initfile.Export(ctx, e.st, e.svc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(first), "SamlProviders:") || !strings.Contains(string(first), "Name: corp") {
		t.Fatalf("export:\n%s", first)
	}
	fresh := newEnv(t)
	exported := filepath.Join(t.TempDir(), "exported.yaml")
	if err := os.WriteFile(exported, first, 0o600); err != nil {
		t.Fatal(err)
	}
	fresh.apply(t, load(t, exported))
	second, err := initfile.Export(ctx, fresh.st, fresh.svc)
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != string(second) {
		t.Fatalf("round trip differs:\n%s\n---\n%s", first, second)
	}
}

func TestSamlProviderErrors(t *testing.T) {
	for text, want := range map[string]string{
		"SamlProviders:\n  - Name: corp\n":                                                   "SamlProviders[0]: the metadata document is required",
		"SamlProviders:\n  - Name: a/b\n    Metadata: x\n":                                   `SamlProviders[0].Name: "a/b" must be 1-128`,
		"SamlProviders:\n  - Name: c\n    Metadata: x\n    MetadataFile: f\n":                "give MetadataFile or Metadata, not both",
		"SamlProviders:\n  - Name: c\n    MetadataFile: missing.xml\n":                       "SamlProviders[0].MetadataFile",
		"SamlProviders:\n  - Name: c\n    Account: 12\n    Metadata: x\n":                    "must be 12 digits",
		"SamlProviders:\n  - Name: c\n    Metadata: x\n    Url: https://x\n":                 "Url",
		"SamlProviders:\n  - Name: c\n    Metadata: \"" + strings.Repeat("x", 1200) + "\"\n": "SamlProviders[0].Metadata: Could not parse metadata",
	} {
		path := write(t, text)
		f, err := initfile.Load(path, "us-east-1")
		if err == nil {
			_, err = initfile.Apply(ctx, f, newEnv(t).st, newEnv(t).svc, time.Now())
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}
