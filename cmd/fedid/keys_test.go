package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"path/filepath"

	"github.com/fedid/fedid/internal/app"
)

// TestKeysListAndDelete: list is aligned, newest first, shows last use
// and never a secret; delete removes, an unknown ID is a clear error.
func TestKeysListAndDelete(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "k.db")
	var ids, secrets []string
	for range 2 {
		var out, errb bytes.Buffer
		if err := run(ctx, []string{"keys", "create", "--account", "123456789012", "--db", db, "--create"}, &out, &errb); err != nil {
			t.Fatal(err, errb.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		ids = append(ids, strings.TrimPrefix(lines[0], "AWS_ACCESS_KEY_ID="))
		secrets = append(secrets, strings.TrimPrefix(lines[1], "AWS_SECRET_ACCESS_KEY="))
		time.Sleep(10 * time.Millisecond) // distinct creation times
	}
	used := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	st, err := app.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.TouchAccessKey(ctx, ids[0], used); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var out, errb bytes.Buffer
	if err := run(ctx, []string{"keys", "list", "--db", db}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ACCESS KEY ID") {
		t.Fatalf("list:\n%s", out.String())
	}
	if !strings.HasPrefix(lines[1], ids[1]) || !strings.HasSuffix(lines[1], "never") ||
		!strings.HasPrefix(lines[2], ids[0]) || !strings.HasSuffix(lines[2], "2026-12-02T10:30:00Z") {
		t.Fatalf("not newest first, or last use missing:\n%s", out.String())
	}
	col := strings.Index(lines[0], "LAST USED")
	if strings.Index(lines[1], "never") != col || strings.Index(lines[2], "2026-12-02T10:30:00Z") != col {
		t.Fatalf("columns not aligned:\n%s", out.String())
	}
	for _, s := range secrets {
		if strings.Contains(out.String(), s) {
			t.Fatal("keys list printed a secret")
		}
	}

	out.Reset()
	if err := run(ctx, []string{"keys", "delete", ids[0], "--db", db}, &out, &errb); err != nil || !strings.Contains(out.String(), "deleted access key "+ids[0]) {
		t.Fatalf("delete: %v %q", err, out.String())
	}
	err = run(ctx, []string{"keys", "delete", "--db", db, ids[0]}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "no access key "+ids[0]) {
		t.Fatalf("delete unknown: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"keys", "list", "--db", db}, &out, &errb); err != nil || strings.Count(out.String(), "\n") != 2 || strings.Contains(out.String(), ids[0]) {
		t.Fatalf("list after delete: %v\n%s", err, out.String())
	}
	for _, bad := range [][]string{{"keys", "delete", "--db", db}, {"keys", "frob"}, {"keys", "list", "--db", filepath.Join(t.TempDir(), "none.db")}} {
		if err := run(ctx, bad, &out, &errb); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
