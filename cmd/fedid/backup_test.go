package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/app"
	"github.com/fedid/fedid/internal/store/sqlite"
)

func countIdentities(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM identities`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBackupUnderLoadAndRestore: while writers create identities (as
// fedid serving GetId would, on their own connections), fedid backup
// copies the database; every identity acknowledged before the backup began
// is in the copy, which passes the integrity check; restore refuses while
// the database is open, then puts the copy back once it is closed.
func TestBackupUnderLoadAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, copyPath := filepath.Join(dir, "fedid.db"), filepath.Join(dir, "copy.db")
	st, err := app.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	now := time.Now()
	pool := &fedid.Pool{ID: "us-east-1:00000000-0000-0000-0000-000000000001", Account: "123456789012", Region: "us-east-1", Name: "p", CreatedAt: now}
	if err := st.Update(ctx, func(tx fedid.Tx) error { return tx.CreatePool(ctx, pool) }); err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		acked []string
		seq   atomic.Int64
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		werr  atomic.Value
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("us-east-1:%036d", seq.Add(1))
				x := &fedid.Identity{ID: id, PoolID: pool.ID, CreatedAt: now, ModifiedAt: now}
				if err := st.Update(ctx, func(tx fedid.Tx) error { return tx.CreateIdentity(ctx, x) }); err != nil {
					werr.Store(err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()

	var out, errb bytes.Buffer
	if err := run(ctx, []string{"backup", "--db", db, "--out", copyPath}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	mu.Lock()
	during := len(acked) - len(before)
	mu.Unlock()
	if err := run(ctx, []string{"backup", "--db", db, "--out", copyPath}, &out, &errb); err == nil || !strings.Contains(err.Error(), "not overwriting") {
		t.Fatalf("second backup onto the same file: %v", err)
	}
	// Restore refuses while the database is open (here by the writers'
	// store, as by a serving fedid).
	if err := run(ctx, []string{"restore", "--db", db, "--from", copyPath}, &out, &errb); !errors.Is(err, sqlite.ErrInUse) {
		t.Fatalf("restore while in use: %v", err)
	}
	close(stop)
	wg.Wait()
	if err, ok := werr.Load().(error); ok {
		t.Fatal(err)
	}
	t.Logf("%d identities acknowledged before the backup, %d more while it ran", len(before), during)

	if err := sqlite.IntegrityCheck(ctx, copyPath); err != nil {
		t.Fatal(err)
	}
	cp, err := app.OpenStore(ctx, copyPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range before {
		if _, err := cp.GetIdentity(ctx, id); err != nil {
			t.Fatalf("identity %s acknowledged before the backup is not in the copy: %v", id, err)
		}
	}
	cp.Close()
	inCopy := countIdentities(t, copyPath)
	if inCopy < len(before) {
		t.Fatalf("copy has %d identities, %d were acknowledged before", inCopy, len(before))
	}

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countIdentities(t, db); n <= inCopy && during > 0 {
		t.Fatalf("the live database has %d identities, no more than the copy's %d", n, inCopy)
	}
	out.Reset()
	if err := run(ctx, []string{"restore", "--db", db, "--from", copyPath}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	if n := countIdentities(t, db); n != inCopy {
		t.Fatalf("restored %d identities, the copy has %d", n, inCopy)
	}
	// fedid opens the restored database and it still passes the check.
	st, err = app.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetIdentity(ctx, before[len(before)-1]); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := sqlite.IntegrityCheck(ctx, db); err != nil {
		t.Fatal(err)
	}
	// A corrupt or foreign file is refused before anything is touched.
	bad := filepath.Join(dir, "bad.db")
	if err := run(ctx, []string{"backup", "--db", bad, "--out", filepath.Join(dir, "x.db")}, &out, &errb); err == nil {
		t.Fatal("backup of a missing database accepted")
	}
	if err := os.WriteFile(bad, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"restore", "--db", db, "--from", filepath.Join(dir, "missing.db")},
		{"restore", "--db", db, "--from", bad},
		{"backup", "--db", "postgres://localhost/x", "--out", "y"},
		{"restore", "--db", "postgres://localhost/x", "--from", "y"},
	} {
		if err := run(ctx, args, &out, &errb); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if err := run(ctx, []string{"backup", "--db", "postgres://localhost/x", "--out", "y"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("postgres backup: %v", err)
	}
}
