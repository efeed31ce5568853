// Package pgtest gives tests their own PostgreSQL schema on the test
// server: FEDID_TEST_POSTGRES, or the local server on 127.0.0.1:5432,
// database test. With CI=true an unreachable server fails the test;
// elsewhere the test is skipped with a message saying so.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server the tests use when FEDID_TEST_POSTGRES is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ServerURL is the test server's URL.
func ServerURL() string {
	if u := os.Getenv("FEDID_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// Schema creates a fresh schema, drops it when the test ends, and returns
// a URL whose connections use it.
func Schema(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := ServerURL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL at FEDID_TEST_POSTGRES or %s is unreachable in CI: %v", DefaultURL, err)
		}
		tb.Skipf("PostgreSQL tests skipped: no server reachable (%v); set FEDID_TEST_POSTGRES", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "fedid_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// The schema name as application name lets a test find (and cut) its
	// own connections without touching other tests'.
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
