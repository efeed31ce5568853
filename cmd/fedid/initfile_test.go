package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitCheck(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"init", "--check", "../../examples/init.yaml"}, &out, &errb); err != nil ||
		!strings.Contains(out.String(), "ok: 0 access keys, 1 OIDC providers, 2 identity pools") {
		t.Fatalf("check of the example: %v %q", err, out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("IdentityPools:\n  - IdentityPoolName: x\n    AllowUnauthenticatedIdentities: true\n    IdentityPoolTags: {'aws:x': y}\n"), 0o600)
	err := run(context.Background(), []string{"init", "--check", bad}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), bad+":4: IdentityPools[0].IdentityPoolTags: InvalidParameterException") {
		t.Fatalf("check of a bad file: %v", err)
	}
	if err := run(context.Background(), []string{"init"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "--check FILE") {
		t.Fatalf("init without --check: %v", err)
	}
}

// TestExport: export of a store with no such file is refused; of a store
// made from the example, it holds the example's pool.
func TestExport(t *testing.T) {
	var out, errb bytes.Buffer
	db := filepath.Join(t.TempDir(), "fedid.db")
	if err := run(context.Background(), []string{"export", "--db", db}, &out, &errb); err == nil {
		t.Fatal("export of a missing store worked")
	}
	if err := run(context.Background(), []string{"keys", "create", "--account", "123456789012", "--db", db, "--create"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	file := filepath.Join(t.TempDir(), "state.yaml")
	if err := run(context.Background(), []string{"export", "--db", db, "-o", file}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(b), "AccessKeys:\n  - AccessKeyId: AKIA") {
		t.Fatalf("export: %v\n%s", err, b)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file mode %v", fi.Mode())
	}
}
