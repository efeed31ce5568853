package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedid/fedid/internal/app"
)

func TestKeysCreate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"keys", "create", "--account", "123456789012", "--db", db, "--create"}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "AWS_ACCESS_KEY_ID=AKIA") || len(lines[0]) != len("AWS_ACCESS_KEY_ID=")+20 ||
		len(lines[1]) != len("AWS_SECRET_ACCESS_KEY=")+40 || lines[2] != "FEDID_ACCOUNT_ID=123456789012" {
		t.Fatalf("output %q", out.String())
	}
	st, err := app.OpenStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, err := st.GetAccessKey(context.Background(), strings.TrimPrefix(lines[0], "AWS_ACCESS_KEY_ID="))
	if err != nil || k.Account != "123456789012" || "AWS_SECRET_ACCESS_KEY="+k.Secret != lines[1] {
		t.Fatalf("stored key %v %v", k, err)
	}
	for _, bad := range [][]string{{"keys", "create", "--db", db}, {"keys", "create", "--account", "12", "--db", db}, {"keys"}} {
		if err := run(context.Background(), bad, &out, &errb); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestServeRefusesNonLoopbackWithoutKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	t.Setenv("FEDID_ACCESS_KEY_ID", "")
	t.Setenv("FEDID_SECRET_ACCESS_KEY", "")
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"serve", "--addr", "0.0.0.0:0", "--db", db}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "refusing to listen on 0.0.0.0:0 without an access key") {
		t.Fatalf("got %v", err)
	}
	t.Setenv("FEDID_ACCOUNT_ID", "not-digits")
	t.Setenv("FEDID_ACCESS_KEY_ID", "AKIAX")
	t.Setenv("FEDID_SECRET_ACCESS_KEY", "s")
	if err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, &out, &errb); err == nil ||
		!strings.Contains(err.Error(), "12 digits") {
		t.Fatalf("bad account: %v", err)
	}
}

func TestCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &errb); err != nil || !strings.HasPrefix(out.String(), "fedid ") ||
		!strings.Contains(out.String(), "\ncommit ") || !strings.Contains(out.String(), "\ngo1.") || !strings.Contains(out.String(), "\nsigner ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), nil, &out, &errb); err == nil {
		t.Fatal("no command accepted")
	}
	if err := run(context.Background(), []string{"frobnicate"}, &out, &errb); err == nil {
		t.Fatal("unknown command accepted")
	}
	db := filepath.Join(t.TempDir(), "r.db")
	out.Reset()
	if err := run(context.Background(), []string{"signing-keys", "rotate", "--db", db, "--create"}, &out, &errb); err != nil ||
		!strings.HasPrefix(out.String(), "new signing key us-east-1-2 published; it signs from ") {
		t.Fatalf("rotate: %v %q", err, out.String())
	}
}

// TestAdminCommandsNeedAnExistingStore: run from the wrong folder, an admin
// command names the path and the flags instead of creating an empty store.
func TestAdminCommandsNeedAnExistingStore(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "missing.db")
	for _, args := range [][]string{
		{"keys", "create", "--account", "123456789012", "--db", db},
		{"oidc-providers", "list", "--db", db},
		{"signing-keys", "rotate", "--db", db},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "no database at "+db) || !strings.Contains(err.Error(), "--create") {
			t.Fatalf("%v: %v", args, err)
		}
		if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%v created %s", args, db)
		}
	}
}

// TestServeFlagMistakes: the usual slips get a message that says what to
// write, before anything is opened.
func TestServeFlagMistakes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "f.db")
	for args, want := range map[string]string{
		"--addr 9705":           `use host:port, e.g. 127.0.0.1:9705`,
		"--addr localhost":      `use host:port`,
		"--issuer not-a-url":    `must be an absolute http(s) URL`,
		"--issuer ftp://x.test": `must be an absolute http(s) URL`,
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), append(append([]string{"serve"}, strings.Fields(args)...), "--db", db), &out, &errb)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", args, err)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused start created the database")
	}
	// -h prints the flags and is no error to main (exit 0).
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"serve", "-h"}, &out, &errb); err != nil || !strings.Contains(out.String(), "--addr") {
		t.Fatalf("serve -h: %v %q", err, out.String())
	}
}
