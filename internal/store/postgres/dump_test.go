package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/postgres/pgtest"
	"github.com/fedid/fedid/internal/store/storetest"
)

// TestPgDumpRestores proves the README's PostgreSQL backup: a pg_dump of
// a fedid schema, pg_restore'd into a fresh database, is a store fedid
// opens (its migrations recorded, nothing re-applied) with identities and
// access keys intact.
func TestPgDumpRestores(t *testing.T) {
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	ctx := context.Background()
	src := pgtest.Schema(t)
	st := storetest.Open(t, Open, src)
	at := time.Date(2026, 12, 2, 10, 0, 0, 123456000, time.UTC) // PostgreSQL keeps what fedid stores: nanoseconds in a BIGINT
	key := fedid.AccessKey{ID: "AKIADUMP000000000001", Secret: "dump-secret", Account: "123456789012", Created: at}
	if err := st.PutAccessKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchAccessKey(ctx, key.ID, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	pool := &fedid.Pool{ID: "us-east-1:00000000-0000-0000-0000-000000000001", Account: "123456789012", Region: "us-east-1", Name: "p", CreatedAt: at}
	ids := []string{"us-east-1:00000000-0000-0000-0000-00000000000a", "us-east-1:00000000-0000-0000-0000-00000000000b"}
	err := st.Update(ctx, func(tx fedid.Tx) error {
		if err := tx.CreatePool(ctx, pool); err != nil {
			return err
		}
		for i, id := range ids {
			x := &fedid.Identity{ID: id, PoolID: pool.ID, Authenticated: true, CreatedAt: at, ModifiedAt: at,
				Logins: []fedid.Login{{Provider: "login.example", Key: "user" + string(rune('a'+i)), Developer: true, LinkedAt: at}}}
			if err := tx.CreateIdentity(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(src)
	schema := u.Query().Get("search_path")

	dump := filepath.Join(t.TempDir(), "fedid.dump")
	base := pgtest.ServerURL()
	if out, err := exec.CommandContext(ctx, "pg_dump", "--format=custom", "--schema="+schema, "--file="+dump, base).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}

	// A fresh database, dropped at the end.
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	dbName := "fedid_restore_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+dbName); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Logf("drop database %s: %v", dbName, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", dbName, err)
		}
	})
	bu, _ := url.Parse(base)
	bu.Path = "/" + dbName
	if out, err := exec.CommandContext(ctx, "pg_restore", "--no-owner", "--dbname="+bu.String(), dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}

	q := bu.Query()
	q.Set("search_path", schema)
	bu.RawQuery = q.Encode()
	restored, err := Open(ctx, bu.String())
	if err != nil {
		t.Fatalf("fedid cannot open the restored database: %v", err)
	}
	defer restored.Close()
	got, err := restored.GetAccessKey(ctx, key.ID)
	if err != nil || got.Secret != key.Secret || got.Account != key.Account || !got.Created.Equal(at) || !got.LastUsed.Equal(at.Add(time.Minute)) {
		t.Fatalf("restored key %+v %v", got, err)
	}
	list, err := restored.ListIdentities(ctx, pool.ID, fedid.Cursor{}, 10, false)
	if err != nil || len(list) != 2 || list[0].ID != ids[0] || list[1].ID != ids[1] || len(list[1].Logins) != 1 {
		t.Fatalf("restored identities %v %v", list, err)
	}
	if id, err := restored.FindLogin(ctx, pool.ID, "login.example", "userb"); err != nil || id != ids[1] {
		t.Fatalf("restored login %q %v", id, err)
	}
	// It serves writes too: a new identity in the restored store.
	err = restored.Update(ctx, func(tx fedid.Tx) error {
		return tx.CreateIdentity(ctx, &fedid.Identity{ID: "us-east-1:00000000-0000-0000-0000-00000000000c", PoolID: pool.ID, CreatedAt: at, ModifiedAt: at})
	})
	if err != nil {
		t.Fatal(err)
	}
}
