package postgres

import (
	"context"
	"io/fs"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/postgres/pgtest"
	"github.com/fedid/fedid/internal/store/sqlstore"
	"github.com/fedid/fedid/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Logf("PostgreSQL conformance against %s", pgtest.ServerURL())
	storetest.Run(t, func(t *testing.T) fedid.Store { return storetest.Open(t, Open, pgtest.Schema(t)) })
}

// TestLoginCacheSeesEveryWriter: an instance's login cache sees another
// instance's unlinks through login_epoch, and a DELETE run by hand
// followed by the count that the README asks for.
func TestLoginCacheSeesEveryWriter(t *testing.T) {
	url := pgtest.Schema(t)
	a, b := storetest.Open(t, Open, url), storetest.Open(t, Open, url)
	t.Cleanup(func() { a.Close(); b.Close() })
	storetest.LoginCacheSeesEveryWriter(t, a, b, func(q string) {
		if _, err := b.pool.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
		if _, err := b.pool.Exec(context.Background(), countUnlinks); err != nil {
			t.Fatal(err)
		}
	})
	if h, _ := a.LoginCacheStats(); h == 0 {
		t.Fatal("a's login cache answered nothing")
	}
}

// TestConcurrentMigrations: instances starting together on an empty
// schema migrate it once.
func TestConcurrentMigrations(t *testing.T) {
	url := pgtest.Schema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), url)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := storetest.Open(t, Open, url)
	var n int
	files, _ := fs.Glob(sqlstore.Migrations, "migrations/*.sql")
	if err := s.pool.QueryRow(context.Background(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) || n < 2 {
		t.Fatalf("migrations applied %d times (%v)", n, err)
	}
}

// TestUpgradeFromSchema5: a store of the schema before compact identities
// (migration 6) opens with nothing lost.
func TestUpgradeFromSchema5(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Schema(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, pool, storetest.SchemaBeforeCompact); err != nil {
		t.Fatal(err)
	}
	storetest.WriteSchema5(t, func(q string, args ...any) error {
		n := 0
		q = regexp.MustCompile(`\?`).ReplaceAllStringFunc(q, func(string) string { n++; return "$" + strconv.Itoa(n) })
		_, err := pool.Exec(ctx, q, args...)
		return err
	})
	pool.Close()
	s := storetest.Open(t, Open, url)
	storetest.CheckSchema5(t, s)
}
