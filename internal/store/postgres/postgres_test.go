package postgres

import (
	"context"
	"io/fs"
	"sync"
	"testing"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/postgres/pgtest"
	"github.com/fedid/fedid/internal/store/sqlstore"
	"github.com/fedid/fedid/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Logf("PostgreSQL conformance against %s", pgtest.ServerURL())
	storetest.Run(t, func(t *testing.T) fedid.Store { return storetest.Open(t, Open, pgtest.Schema(t)) })
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
