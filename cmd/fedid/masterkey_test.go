package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedid/fedid/internal/seal"
)

// TestMasterKeyCommands: generate, an admin command on a sealed store
// with, without and with the wrong key, rotate. (keys create stores one
// secret, the access key's.)
func TestMasterKeyCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "fedid.db")
	gen := func(name string) (string, *seal.Key) {
		var out, errb bytes.Buffer
		if err := run(ctx, []string{"master-key", "generate"}, &out, &errb); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		k, err := seal.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return path, k
	}
	f1, k1 := gen("k1")
	f2, k2 := gen("k2")
	cmd := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, args, &out, &errb)
		if strings.Contains(out.String()+errb.String(), mustRead(t, f1)) || strings.Contains(out.String()+errb.String(), mustRead(t, f2)) {
			t.Fatalf("%v printed a master key", args)
		}
		return out.String(), err
	}
	if _, err := cmd("keys", "create", "--account", "111111111111", "--db", db, "--create", "--master-key-file", f1); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"keys", "create", "--account", "111111111111", "--db", db},
		{"keys", "create", "--account", "111111111111", "--db", db, "--master-key-file", f2},
	} {
		_, err := cmd(args...)
		if err == nil || !strings.Contains(err.Error(), "sealed with master key "+k1.ID()) {
			t.Fatalf("%v: %v", args, err)
		}
	}
	out, err := cmd("master-key", "rotate", "--db", db, "--old", f1, "--new", f2)
	if err != nil || !strings.Contains(out, k2.ID()+": 1") {
		t.Fatalf("rotate: %q %v", out, err)
	}
	if _, err := cmd("keys", "create", "--account", "111111111111", "--db", db, "--master-key-file", f1); err == nil ||
		!strings.Contains(err.Error(), k2.ID()) {
		t.Fatalf("old key after rotation: %v", err)
	}
	t.Setenv("FEDID_MASTER_KEY_FILE", f2)
	if _, err := cmd("keys", "create", "--account", "111111111111", "--db", db); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
