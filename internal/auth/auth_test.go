package auth

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/sqlite"
)

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9600": true, "localhost:9600": true, "[::1]:9600": true, "127.1.2.3:1": true,
		"0.0.0.0:9600": false, ":9600": false, "10.0.0.1:9600": false, "[::]:9600": false, "example.com:9600": false, "bad": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v", addr, got)
		}
	}
}

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func openStore(t *testing.T) fedid.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestOpenDecidesTheTestKey: test/test only on a loopback address with no
// key configured or stored; elsewhere without a key, a refusal that says
// what to do.
func TestOpenDecidesTheTestKey(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	k, err := Open(ctx, st, Options{Addr: "127.0.0.1:9600"})
	if err != nil || !k.TestKey() {
		t.Fatalf("loopback, no key: %v %v", k, err)
	}
	if c, err := k.Lookup(ctx, TestKeyID); err != nil || c.Secret != TestSecret || c.Account != fedid.DefaultAccountID {
		t.Fatalf("test key: %+v %v", c, err)
	}
	if _, err := Open(ctx, st, Options{Addr: "0.0.0.0:9600"}); err == nil || !strings.Contains(err.Error(), "fedid keys create") {
		t.Fatalf("no key on a wildcard address: %v", err)
	}
	k, err = Open(ctx, st, Options{Addr: "0.0.0.0:9600", AccessKey: fedid.AccessKey{ID: "AKIAEXAMPLE000000001", Secret: "s3cret", Account: "123456789012"}})
	if err != nil || k.TestKey() {
		t.Fatalf("with a key: %v %v", k, err)
	}
	// The key is stored: the next start has one, and test/test is off,
	// which the log says.
	var logs strings.Builder
	k, err = Open(ctx, st, Options{Addr: "127.0.0.1:9600", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil || k.TestKey() {
		t.Fatalf("a stored key leaves test/test off: %v %v", k, err)
	}
	if !strings.Contains(logs.String(), "1 access key is stored; test/test is refused") {
		t.Fatalf("start log: %s", logs.String())
	}
	// --dev accepts test/test beside the stored key.
	if k, err := Open(ctx, st, Options{Addr: "0.0.0.0:9600", Dev: true}); err != nil || !k.TestKey() {
		t.Fatalf("--dev: %v %v", k, err)
	}
	if _, err := k.Lookup(ctx, TestKeyID); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("test key after a key was stored: %v", err)
	}
	c, err := k.Lookup(ctx, "AKIAEXAMPLE000000001")
	if err != nil || c.Secret != "s3cret" || c.ARN != "arn:aws:iam::123456789012:root" {
		t.Fatalf("stored key: %+v %v", c, err)
	}
}

// TestSessionsExpireOnTheClock: issued credentials resolve until they
// expire on the injected clock, and only in local credentials mode.
func TestSessionsExpireOnTheClock(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.PutSession(ctx, fedid.Session{AccessKeyID: "ASIAEXAMPLE000000001", Secret: "sess", Account: "123456789012",
		RoleARN: "arn:aws:iam::123456789012:role/r", ExpiresAt: now.Add(time.Hour), TokenHash: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{now}
	k, err := Open(ctx, st, Options{Addr: "127.0.0.1:0", Sessions: true, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := k.Lookup(ctx, "ASIAEXAMPLE000000001"); err != nil || c.Secret != "sess" || len(c.TokenHash) != 1 {
		t.Fatalf("live session: %+v %v", c, err)
	}
	clk.t = now.Add(time.Hour)
	if _, err := k.Lookup(ctx, "ASIAEXAMPLE000000001"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	clk.t = now
	k, _ = Open(ctx, st, Options{Addr: "127.0.0.1:0", Clock: clk})
	if _, err := k.Lookup(ctx, "ASIAEXAMPLE000000001"); err == nil {
		t.Fatal("a session resolved without local credentials mode")
	}
}
