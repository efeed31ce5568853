package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/sqlstore"
)

// LoginCacheSeesEveryWriter: two stores a and b on one database (two
// processes, two instances), each with its login cache. a's own unlinks
// are seen by a at once; b's, and a statement run on the database by hand
// (exec, on b's connections, with what the engine asks to follow such a
// statement), within sqlstore.LoginCacheWatch.
func LoginCacheSeesEveryWriter(t *testing.T, a, b fedid.Store, exec func(query string)) {
	now := time.Now()
	p := &fedid.Pool{ID: "us-east-1:p", Account: "000000000000", Region: "us-east-1", Name: "c", CreatedAt: now}
	mk := func(id, user string) *fedid.Identity {
		return &fedid.Identity{ID: id, PoolID: p.ID, Authenticated: true, CreatedAt: now, ModifiedAt: now,
			Logins: []fedid.Login{{Provider: "login.example", Key: user, Developer: true, LinkedAt: now}}}
	}
	if err := a.Update(ctx, func(tx fedid.Tx) error {
		if err := tx.CreatePool(ctx, p); err != nil {
			return err
		}
		if err := tx.CreateIdentity(ctx, mk("us-east-1:x", "u1")); err != nil {
			return err
		}
		return tx.CreateIdentity(ctx, mk("us-east-1:y", "u2"))
	}); err != nil {
		t.Fatal(err)
	}
	find := func(s fedid.Store, user string) string {
		t.Helper()
		id, err := s.FindLogin(ctx, p.ID, "login.example", user)
		if errors.Is(err, fedid.ErrNotFound) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	for range 3 { // cached after the first
		if got := find(a, "u1"); got != "us-east-1:x" {
			t.Fatalf("u1 on a: %q", got)
		}
		if got := find(b, "u2"); got != "us-east-1:y" {
			t.Fatalf("u2 on b: %q", got)
		}
	}
	// A write of a's own: at once.
	if err := a.Update(ctx, func(tx fedid.Tx) error { return tx.RemoveLogin(ctx, "us-east-1:x", "login.example", "u1") }); err != nil {
		t.Fatal(err)
	}
	if got := find(a, "u1"); got != "" {
		t.Fatalf("u1 on a after a's unlink: %q", got)
	}
	// b's writes, seen by a within the watch interval.
	if find(a, "u2") != "us-east-1:y" {
		t.Fatal("u2 on a")
	}
	if err := b.Update(ctx, func(tx fedid.Tx) error { return tx.MoveLogins(ctx, "us-east-1:y", "us-east-1:x") }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * sqlstore.LoginCacheWatch)
	if got := find(a, "u2"); got != "us-east-1:x" {
		t.Fatalf("u2 on a after b moved it: %q", got)
	}
	if err := b.Update(ctx, func(tx fedid.Tx) error { return tx.DeleteIdentity(ctx, "us-east-1:x") }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * sqlstore.LoginCacheWatch)
	if got := find(a, "u2"); got != "" {
		t.Fatalf("u2 on a after b deleted its identity: %q", got)
	}
	// A statement run by hand, outside fedid.
	if err := b.Update(ctx, func(tx fedid.Tx) error { return tx.CreateIdentity(ctx, mk("us-east-1:z", "u3")) }); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got := find(a, "u3"); got != "us-east-1:z" {
			t.Fatalf("u3 on a: %q", got)
		}
	}
	exec(`DELETE FROM logins WHERE key = 'u3'`)
	time.Sleep(3 * sqlstore.LoginCacheWatch)
	if got := find(a, "u3"); got != "" {
		t.Fatalf("u3 on a after a DELETE by hand: %q", got)
	}
}
