package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/sqlstore"
	"github.com/fedid/fedid/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) fedid.Store {
		s := storetest.Open(t, Open, filepath.Join(t.TempDir(), "fedid.db"))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestRestartAndMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fedid.db")
	s := storetest.Open(t, Open, path)
	var mode string
	if err := s.r.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q %v", mode, err)
	}
	var fk int
	if err := s.w.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign keys %d %v", fk, err)
	}
	p := &fedid.Pool{ID: "us-east-1:p", Account: "000000000000", Region: "us-east-1", Name: "durable", CreatedAt: time.Now()}
	if err := s.Update(ctx, func(tx fedid.Tx) error { return tx.CreatePool(ctx, p) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = storetest.Open(t, Open, path)
	defer s.Close()
	got, err := s.GetPool(ctx, p.ID)
	if err != nil || got.Name != "durable" {
		t.Fatalf("after restart %+v %v", got, err)
	}
	var n int
	files, _ := fs.Glob(sqlstore.Migrations, "migrations/*.sql")
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) || n < 2 {
		t.Fatalf("migrations recorded %d times %v", n, err)
	}
	// A schema newer than this binary knows is refused.
	if _, err := s.w.Exec(`INSERT INTO schema_migrations (version, applied_ns) VALUES (999, 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, path); err == nil {
		t.Fatal("opened a database with a newer schema")
	}
}

func seed(b *testing.B, n int) (*Store, []string) {
	ctx := context.Background()
	s := storetest.Open(b, Open, filepath.Join(b.TempDir(), "bench.db"))
	b.Cleanup(func() { s.Close() })
	now := time.Now()
	p := &fedid.Pool{ID: "us-east-1:p", Account: "000000000000", Region: "us-east-1", Name: "bench", CreatedAt: now}
	ids := make([]string, n)
	err := s.Update(ctx, func(tx fedid.Tx) error {
		if err := tx.CreatePool(ctx, p); err != nil {
			return err
		}
		for i := range n {
			ids[i] = fmt.Sprintf("us-east-1:%08d", i)
			x := &fedid.Identity{ID: ids[i], PoolID: p.ID, Authenticated: true, CreatedAt: now, ModifiedAt: now,
				Logins: []fedid.Login{{Provider: "login.example", Key: fmt.Sprintf("user%d", i), Developer: true, LinkedAt: now}}}
			if err := tx.CreateIdentity(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, ids
}

// BenchmarkFindLogin is the hot path's lookup: through the login cache,
// and the database read behind a miss.
func BenchmarkFindLogin(b *testing.B) {
	s, _ := seed(b, 10000)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		find func(ctx context.Context, poolID, provider, key string) (string, error)
	}{{"cache", s.FindLogin}, {"read", s.rd().FindLogin}} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.find(ctx, "us-east-1:p", "login.example", fmt.Sprintf("user%d", i%10000)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkGetIdentity(b *testing.B) {
	s, ids := seed(b, 10000)
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.GetIdentity(ctx, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestLoginCacheSeesEveryWriter holds the login cache to what the database
// says: after a write of this store, and within the watch interval after a
// write of another store on the same file (another process, to SQLite).
func TestLoginCacheSeesEveryWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fedid.db")
	a, b := storetest.Open(t, Open, path), storetest.Open(t, Open, path)
	t.Cleanup(func() { a.Close(); b.Close() })
	storetest.LoginCacheSeesEveryWriter(t, a, b, func(q string) {
		if _, err := b.w.Exec(q); err != nil {
			t.Fatal(err)
		}
	})
}

// TestLoginCacheStaysWarm: creating identities and linking new logins
// cannot make a found login wrong, so the cache keeps answering; every
// unlinking write (even one that rolls back) invalidates it; and it stays
// within its bytes.
func TestLoginCacheStaysWarm(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, Open, filepath.Join(t.TempDir(), "fedid.db"))
	t.Cleanup(func() { s.Close() })
	now := time.Now()
	p := &fedid.Pool{ID: "us-east-1:p", Account: "000000000000", Region: "us-east-1", Name: "c", CreatedAt: now}
	mk := func(id, user string) *fedid.Identity {
		return &fedid.Identity{ID: id, PoolID: p.ID, Authenticated: true, CreatedAt: now, ModifiedAt: now,
			Logins: []fedid.Login{{Provider: "login.example", Key: user, Developer: true, LinkedAt: now}}}
	}
	write := func(fn func(tx fedid.Tx) error) {
		t.Helper()
		if err := s.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	write(func(tx fedid.Tx) error {
		if err := tx.CreatePool(ctx, p); err != nil {
			return err
		}
		return tx.CreateIdentity(ctx, mk("us-east-1:x", "u1"))
	})
	find := func() {
		t.Helper()
		if id, err := s.FindLogin(ctx, p.ID, "login.example", "u1"); err != nil || id != "us-east-1:x" {
			t.Fatalf("u1: %q %v", id, err)
		}
	}
	find()
	hits0, _ := s.LoginCacheStats()
	write(func(tx fedid.Tx) error { return tx.CreateIdentity(ctx, mk("us-east-1:y", "u2")) })
	write(func(tx fedid.Tx) error {
		return tx.AddLogin(ctx, p.ID, "us-east-1:y", fedid.Login{Provider: "login.example", Key: "u3", Developer: true, LinkedAt: now})
	})
	find()
	if hits, _ := s.LoginCacheStats(); hits != hits0+1 {
		t.Fatalf("a find after linking writes read the database (hits %d -> %d)", hits0, hits)
	}
	// An unlinking write that rolls back still invalidates.
	_ = s.Update(ctx, func(tx fedid.Tx) error {
		_ = tx.RemoveLogin(ctx, "us-east-1:y", "login.example", "u3")
		return errors.New("abandon")
	})
	_, misses0 := s.LoginCacheStats()
	find()
	if _, misses := s.LoginCacheStats(); misses != misses0+1 {
		t.Fatalf("a find after an unlinking write came from memory (misses %d -> %d)", misses0, misses)
	}
	// Bounded in bytes: many distinct finds never take it past sqlstore.LoginCacheBytes.
	long := strings.Repeat("k", 4000)
	var ids []*fedid.Identity
	for i := range 20000 {
		ids = append(ids, mk(fmt.Sprintf("us-east-1:z%d", i), fmt.Sprintf("%s%d", long, i)))
	}
	write(func(tx fedid.Tx) error {
		for _, x := range ids {
			if err := tx.CreateIdentity(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	for _, x := range ids {
		if _, err := s.FindLogin(ctx, p.ID, "login.example", x.Logins[0].Key); err != nil {
			t.Fatal(err)
		}
		if _, b := s.LoginCacheSize(); b > sqlstore.LoginCacheBytes {
			t.Fatalf("login cache at %d bytes, over %d", b, sqlstore.LoginCacheBytes)
		}
	}
	if n, b := s.LoginCacheSize(); n == 0 || b == 0 {
		t.Fatalf("cache empty after the finds: %d entries, %d bytes", n, b)
	}
}

// TestListIdentitiesLogins: a page larger than one batch of the logins
// query gets every identity's logins, in the order GetIdentity gives them
// (for logins linked at one instant, by provider then key, whatever the
// order they were linked in, as on PostgreSQL).
func TestListIdentitiesLogins(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, Open, filepath.Join(t.TempDir(), "fedid.db"))
	defer s.Close()
	now := time.Now()
	p := &fedid.Pool{ID: "us-east-1:p", Account: "000000000000", Region: "us-east-1", Name: "list", CreatedAt: now}
	const n = 150
	err := s.Update(ctx, func(tx fedid.Tx) error {
		if err := tx.CreatePool(ctx, p); err != nil {
			return err
		}
		for i := range n {
			x := &fedid.Identity{ID: fmt.Sprintf("us-east-1:%08d", i), PoolID: p.ID, Authenticated: true, CreatedAt: now, ModifiedAt: now,
				Logins: []fedid.Login{
					{Provider: "z.example", Key: fmt.Sprintf("z%d", i), Developer: true, LinkedAt: now},
					{Provider: "a.example", Key: fmt.Sprintf("a%d", i), Developer: true, LinkedAt: now},
				}}
			if err := tx.CreateIdentity(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.ListIdentities(ctx, p.ID, fedid.Cursor{}, n+10, false)
	if err != nil || len(all) != n {
		t.Fatalf("%d identities, %v", len(all), err)
	}
	for _, x := range all {
		one, err := s.GetIdentity(ctx, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprint(x.Logins), fmt.Sprint(one.Logins); got != want || len(x.Logins) != 2 || x.Logins[0].Provider != "a.example" {
			t.Fatalf("%s: listed logins %s, GetIdentity %s", x.ID, got, want)
		}
	}
}

// TestUpgradeFromSchema5: a store of the schema before compact identities
// (migration 6) opens with nothing lost.
func TestUpgradeFromSchema5(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fedid.db")
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(ctx, db, storetest.SchemaBeforeCompact); err != nil {
		t.Fatal(err)
	}
	storetest.WriteSchema5(t, func(q string, args ...any) error {
		_, err := db.ExecContext(ctx, q, args...)
		return err
	})
	db.Close()
	s := storetest.Open(t, Open, path)
	defer s.Close()
	if _, err := s.w.ExecContext(ctx, `SELECT 1 FROM identities WHERE pool_num = 1`); err != nil {
		t.Fatalf("not migrated: %v", err)
	}
	storetest.CheckSchema5(t, s)
	var free int
	if err := s.w.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil || free > 2 {
		t.Fatalf("%d free pages after the upgrade (%v): not vacuumed", free, err)
	}
	var check string
	if err := s.w.QueryRowContext(ctx, `PRAGMA foreign_key_check`).Scan(&check); err != sql.ErrNoRows {
		t.Fatalf("foreign key check: %q %v", check, err)
	}
}
