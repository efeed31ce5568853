package storetest

// Identities and their logins: uniqueness, moves, listing, rollback and
// the race of two first logins.

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/fedid/fedid"
)

func testIdentities(t *testing.T, s fedid.Store) {
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	x := mkIdentity(t, s, "us-east-1:p", "us-east-1:i1", base,
		dev("u2", base.Add(2)), dev("u1", base.Add(1)), pub("accounts.google.com", "g", base.Add(3)))
	got, err := s.GetIdentity(ctx, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PoolID != x.PoolID || !got.Authenticated || got.Disabled || !got.CreatedAt.Equal(base) {
		t.Fatalf("identity %+v", got)
	}
	want := []fedid.Login{dev("u1", base.Add(1)), dev("u2", base.Add(2)), pub("accounts.google.com", "g", base.Add(3))}
	if !reflect.DeepEqual(got.Logins, want) {
		t.Fatalf("logins in link order\n got %+v\nwant %+v", got.Logins, want)
	}
	if id, err := s.FindLogin(ctx, "us-east-1:p", "login.example", "u2"); err != nil || id != x.ID {
		t.Fatalf("find login %q %v", id, err)
	}
	if _, err := s.FindLogin(ctx, "us-east-1:other", "login.example", "u2"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("login in another pool: %v", err)
	}
	x.Disabled, x.ModifiedAt = true, base.Add(time.Hour)
	update(t, s, func(tx fedid.Tx) error { return tx.UpdateIdentity(ctx, x) })
	got, _ = s.GetIdentity(ctx, x.ID)
	if !got.Disabled || !got.ModifiedAt.Equal(base.Add(time.Hour)) || got.State() != fedid.StateDisabled {
		t.Fatalf("after update %+v", got)
	}
	update(t, s, func(tx fedid.Tx) error { return tx.DeleteIdentity(ctx, x.ID) })
	if _, err := s.GetIdentity(ctx, x.ID); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("deleted identity: %v", err)
	}
	if _, err := s.FindLogin(ctx, "us-east-1:p", "login.example", "u1"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("login of deleted identity: %v", err)
	}
	guest := mkIdentity(t, s, "us-east-1:p", "us-east-1:g", base)
	got, _ = s.GetIdentity(ctx, guest.ID)
	if got.State() != fedid.StateUnauthenticated || len(got.Logins) != 0 {
		t.Fatalf("guest %+v", got)
	}
}

// Store.CreateIdentity writes an identity and its logins on their own,
// all or nothing.
func testCreateIdentityAlone(t *testing.T, s fedid.Store) {
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	for i, logins := range [][]fedid.Login{nil, {dev("u1", base)}, {dev("u2", base), pub("accounts.google.com", "g", base)}} {
		x := &fedid.Identity{ID: fmt.Sprint("us-east-1:a", i), PoolID: "us-east-1:p", Authenticated: len(logins) > 0,
			CreatedAt: base, ModifiedAt: base.Add(time.Duration(i)), Logins: logins}
		if err := s.CreateIdentity(ctx, x); err != nil {
			t.Fatalf("%d logins: %v", len(logins), err)
		}
		got, err := s.GetIdentity(ctx, x.ID)
		if err != nil || got.Authenticated != x.Authenticated || !got.ModifiedAt.Equal(x.ModifiedAt) || len(got.Logins) != len(logins) {
			t.Fatalf("%d logins: got %+v %v", len(logins), got, err)
		}
		for _, l := range logins {
			if id, err := s.FindLogin(ctx, x.PoolID, l.Provider, l.Key); err != nil || id != x.ID {
				t.Fatalf("login %s: %q %v", l.Key, id, err)
			}
		}
	}
	// A login linked already: ErrDuplicate, and no identity written.
	for _, logins := range [][]fedid.Login{{dev("u1", base)}, {dev("new", base), dev("u1", base)}} {
		x := &fedid.Identity{ID: "us-east-1:dup", PoolID: "us-east-1:p", Authenticated: true, CreatedAt: base, ModifiedAt: base, Logins: logins}
		if err := s.CreateIdentity(ctx, x); !errors.Is(err, fedid.ErrDuplicate) {
			t.Fatalf("a linked login again: %v", err)
		}
		if _, err := s.GetIdentity(ctx, x.ID); !errors.Is(err, fedid.ErrNotFound) {
			t.Fatalf("the refused identity was written: %v", err)
		}
		if _, err := s.FindLogin(ctx, "us-east-1:p", "login.example", "new"); !errors.Is(err, fedid.ErrNotFound) {
			t.Fatalf("the refused identity's other login was written: %v", err)
		}
	}
	// No such pool, or not of the ID's region: ErrNotFound.
	for _, x := range []*fedid.Identity{
		{ID: "us-east-1:np", PoolID: "us-east-1:none", CreatedAt: base, ModifiedAt: base, Logins: []fedid.Login{dev("np", base)}},
		{ID: "eu-west-1:np", PoolID: "us-east-1:p", CreatedAt: base, ModifiedAt: base, Logins: []fedid.Login{dev("np", base)}},
		{ID: "eu-west-1:np", PoolID: "us-east-1:p", CreatedAt: base, ModifiedAt: base},
	} {
		if err := s.CreateIdentity(ctx, x); !errors.Is(err, fedid.ErrNotFound) {
			t.Fatalf("%s in %s: %v", x.ID, x.PoolID, err)
		}
	}
	if _, err := s.FindLogin(ctx, "us-east-1:p", "login.example", "np"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("a login of an identity refused was written: %v", err)
	}
}

func testLoginUniqueness(t *testing.T, s fedid.Store) {
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	mkPool(t, s, "us-east-1:q", "111111111111", "us-east-1", base)
	mkIdentity(t, s, "us-east-1:p", "us-east-1:a", base, dev("u1", base), pub("accounts.google.com", "g1", base))
	// The same login on a second identity of the pool.
	err := s.Update(ctx, func(tx fedid.Tx) error {
		return tx.CreateIdentity(ctx, &fedid.Identity{ID: "us-east-1:b", PoolID: "us-east-1:p", CreatedAt: base, Logins: []fedid.Login{dev("u1", base)}})
	})
	if !errors.Is(err, fedid.ErrDuplicate) {
		t.Fatalf("duplicate login via CreateIdentity: %v", err)
	}
	if _, err := s.GetIdentity(ctx, "us-east-1:b"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatal("failed transaction left its identity behind")
	}
	mkIdentity(t, s, "us-east-1:p", "us-east-1:b", base)
	err = s.Update(ctx, func(tx fedid.Tx) error {
		return tx.AddLogin(ctx, "us-east-1:p", "us-east-1:b", pub("accounts.google.com", "g1", base))
	})
	if !errors.Is(err, fedid.ErrDuplicate) {
		t.Fatalf("duplicate login via AddLogin: %v", err)
	}
	// The same key in another pool is another login.
	mkIdentity(t, s, "us-east-1:q", "us-east-1:c", base, dev("u1", base))
	// A second user of the same public provider on one identity.
	err = s.Update(ctx, func(tx fedid.Tx) error {
		return tx.AddLogin(ctx, "us-east-1:p", "us-east-1:a", pub("accounts.google.com", "g2", base))
	})
	if !errors.Is(err, fedid.ErrDuplicate) {
		t.Fatalf("second login of one public provider: %v", err)
	}
	// Several developer users on one identity are fine.
	update(t, s, func(tx fedid.Tx) error { return tx.AddLogin(ctx, "us-east-1:p", "us-east-1:a", dev("u2", base.Add(1))) })
	got, _ := s.GetIdentity(ctx, "us-east-1:a")
	if len(got.Logins) != 3 {
		t.Fatalf("logins %+v", got.Logins)
	}
}

func testRemoveAndMoveLogins(t *testing.T, s fedid.Store) {
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	mkIdentity(t, s, "us-east-1:p", "us-east-1:a", base, dev("a1", base), pub("graph.facebook.com", "f", base.Add(1)))
	mkIdentity(t, s, "us-east-1:p", "us-east-1:b", base, dev("b1", base.Add(2)), pub("accounts.google.com", "g", base.Add(3)))
	mkIdentity(t, s, "us-east-1:p", "us-east-1:c", base, pub("accounts.google.com", "other", base))
	if err := s.Update(ctx, func(tx fedid.Tx) error { return tx.RemoveLogin(ctx, "us-east-1:a", "login.example", "nope") }); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("remove missing: %v", err)
	}
	update(t, s, func(tx fedid.Tx) error { return tx.MoveLogins(ctx, "us-east-1:b", "us-east-1:a") })
	a, _ := s.GetIdentity(ctx, "us-east-1:a")
	b, _ := s.GetIdentity(ctx, "us-east-1:b")
	want := []fedid.Login{dev("a1", base), pub("graph.facebook.com", "f", base.Add(1)), dev("b1", base.Add(2)), pub("accounts.google.com", "g", base.Add(3))}
	if !reflect.DeepEqual(a.Logins, want) || len(b.Logins) != 0 {
		t.Fatalf("after move a=%+v b=%+v", a.Logins, b.Logins)
	}
	if id, _ := s.FindLogin(ctx, "us-east-1:p", "login.example", "b1"); id != "us-east-1:a" {
		t.Fatalf("moved login found on %s", id)
	}
	// Moving onto an identity holding another user of a public provider
	// breaks the one-per-provider rule.
	if err := s.Update(ctx, func(tx fedid.Tx) error { return tx.MoveLogins(ctx, "us-east-1:c", "us-east-1:a") }); !errors.Is(err, fedid.ErrDuplicate) {
		t.Fatalf("conflicting move: %v", err)
	}
	update(t, s, func(tx fedid.Tx) error { return tx.RemoveLogin(ctx, "us-east-1:a", "login.example", "b1") })
	if _, err := s.FindLogin(ctx, "us-east-1:p", "login.example", "b1"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("removed login: %v", err)
	}
}

func identityID(x *fedid.Identity) string { return x.ID }

func testListIdentities(t *testing.T, s fedid.Store) {
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	mkIdentity(t, s, "us-east-1:p", "us-east-1:3", base.Add(2), dev("u3", base))
	mkIdentity(t, s, "us-east-1:p", "us-east-1:1", base, dev("u1", base))
	mkIdentity(t, s, "us-east-1:p", "us-east-1:2", base.Add(1)) // guest
	dis := mkIdentity(t, s, "us-east-1:p", "us-east-1:4", base.Add(3))
	dis.Disabled = true
	update(t, s, func(tx fedid.Tx) error { return tx.UpdateIdentity(ctx, dis) })
	inacc := mkIdentity(t, s, "us-east-1:p", "us-east-1:5", base.Add(4), dev("u5", base))
	update(t, s, func(tx fedid.Tx) error { return tx.RemoveLogin(ctx, inacc.ID, "login.example", "u5") })
	all, err := s.ListIdentities(ctx, "us-east-1:p", fedid.Cursor{}, 10, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ids(all, identityID)); got != "[us-east-1:1 us-east-1:2 us-east-1:3 us-east-1:4 us-east-1:5]" {
		t.Fatalf("all %s", got)
	}
	if len(all[0].Logins) != 1 || all[0].Logins[0].Key != "u1" {
		t.Fatalf("logins not loaded: %+v", all[0])
	}
	visible, _ := s.ListIdentities(ctx, "us-east-1:p", fedid.Cursor{}, 10, true)
	if got := fmt.Sprint(ids(visible, identityID)); got != "[us-east-1:1 us-east-1:2 us-east-1:3]" {
		t.Fatalf("hide disabled %s", got)
	}
	page, _ := s.ListIdentities(ctx, "us-east-1:p", fedid.Cursor{CreatedAt: all[1].CreatedAt, ID: all[1].ID}, 2, false)
	if got := fmt.Sprint(ids(page, identityID)); got != "[us-east-1:3 us-east-1:4]" {
		t.Fatalf("page %s", got)
	}
}

func testRollback(t *testing.T, s fedid.Store) {
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx fedid.Tx) error {
		if err := tx.CreateIdentity(ctx, &fedid.Identity{ID: "us-east-1:x", PoolID: "us-east-1:p", CreatedAt: base, Logins: []fedid.Login{dev("u", base)}}); err != nil {
			return err
		}
		if err := tx.CreatePool(ctx, &fedid.Pool{ID: "us-east-1:q", Account: "1", Region: "us-east-1", CreatedAt: base}); err != nil {
			return err
		}
		// Reads inside the transaction see its writes.
		if id, err := tx.FindLogin(ctx, "us-east-1:p", "login.example", "u"); err != nil || id != "us-east-1:x" {
			return fmt.Errorf("read own write: %q %v", id, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v", err)
	}
	if _, err := s.GetIdentity(ctx, "us-east-1:x"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatal("rolled-back identity is visible")
	}
	if _, err := s.GetPool(ctx, "us-east-1:q"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatal("rolled-back pool is visible")
	}
}

// testConcurrentFirstLogin: many first calls for one new developer user
// end with exactly one identity; losers see ErrDuplicate.
func testConcurrentFirstLogin(t *testing.T, s fedid.Store) {
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(ctx, func(tx fedid.Tx) error {
				_, err := tx.FindLogin(ctx, "us-east-1:p", "login.example", "racer")
				if err == nil {
					return nil
				}
				if !errors.Is(err, fedid.ErrNotFound) {
					return err
				}
				return tx.CreateIdentity(ctx, &fedid.Identity{ID: fmt.Sprintf("us-east-1:%02d", i), PoolID: "us-east-1:p",
					Authenticated: true, CreatedAt: base, Logins: []fedid.Login{dev("racer", base)}})
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, fedid.ErrDuplicate) {
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	all, _ := s.ListIdentities(ctx, "us-east-1:p", fedid.Cursor{}, 100, false)
	if len(all) != 1 {
		t.Fatalf("%d identities for one developer user", len(all))
	}
}

// testListOneInstant: identities created at one instant with IDs as fedid
// makes them are listed, page after page, in the order of their IDs.
func testListOneInstant(t *testing.T, s fedid.Store) {
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	var want []string
	for i := range 20 {
		id := fmt.Sprintf("us-east-1:%08x-0000-4000-8000-%012x", uint32(i*2654435761), i)
		mkIdentity(t, s, "us-east-1:p", id, base)
		want = append(want, id)
	}
	sort.Strings(want)
	var got []string
	var after fedid.Cursor
	for {
		page, err := s.ListIdentities(ctx, "us-east-1:p", after, 7, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, ids(page, identityID)...)
		last := page[len(page)-1]
		after = fedid.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed\n%v\nwant\n%v", got, want)
	}
}

// testIdentityRegions: an identity's ID starts with its pool's region;
// under another region it is not found.
func testIdentityRegions(t *testing.T, s fedid.Store) {
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	mkPool(t, s, "eu-west-1:q", "111111111111", "eu-west-1", base)
	err := s.Update(ctx, func(tx fedid.Tx) error {
		return tx.CreateIdentity(ctx, &fedid.Identity{ID: "eu-west-1:x", PoolID: "us-east-1:p", CreatedAt: base})
	})
	if !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("identity of another region than its pool's: %v", err)
	}
	x := mkIdentity(t, s, "eu-west-1:q", "eu-west-1:x", base, dev("u", base))
	if _, err := s.GetIdentity(ctx, "us-east-1:x"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("identity under another region: %v", err)
	}
	if err := s.Update(ctx, func(tx fedid.Tx) error { return tx.DeleteIdentity(ctx, "us-east-1:x") }); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("delete under another region: %v", err)
	}
	if got, err := s.GetIdentity(ctx, x.ID); err != nil || got.PoolID != "eu-west-1:q" || len(got.Logins) != 1 {
		t.Fatalf("identity %+v %v", got, err)
	}
	if id, err := s.FindLogin(ctx, "eu-west-1:q", "login.example", "u"); err != nil || id != x.ID {
		t.Fatalf("find login %q %v", id, err)
	}
}
