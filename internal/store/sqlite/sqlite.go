// Package sqlite is fedid's embedded default store, on the pure-Go
// modernc.org/sqlite driver in WAL mode.
//
// Writes go through one connection whose transactions begin IMMEDIATE, so
// writers queue on SQLite's lock instead of deadlocking on a lock upgrade;
// reads use a separate pool of connections and never wait for writers.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/sqlstore"
)

// sqlDialect is SQLite's SQL: ? placeholders, INTEGER and BLOB for
// PostgreSQL's types, WITHOUT ROWID tables where the schema asks.
var sqlDialect = sqlstore.New(sqlstore.Dialect{
	Name: "sqlite",
	Words: map[string]string{"BIGINT": "INTEGER", "BOOLEAN": "INTEGER", "BYTEA": "BLOB", "FALSE": "0",
		"WITHOUT_ROWID": "WITHOUT ROWID"},
	NoRows:    sql.ErrNoRows,
	Duplicate: isConstraint,
	Conflict:  isBusy,
})

// Store is the SQLite implementation of fedid.Store.
type Store struct {
	*sqlstore.Store
	w, r   *sql.DB
	rq     *txStmts // the reader pool's prepared hot reads
	logins *sqlstore.LoginCache
	// watch is one connection, never used to write, that reads
	// dataVersion for the login cache.
	watch       *sql.DB
	dataVersion *sql.Stmt
	wq          *txStmts

	// The writer's queue (batch.go).
	wmu                 sync.Mutex
	writing             bool // a goroutine leads the writes
	wqueue              []*writeCall
	writeCalls, commits atomic.Uint64
}

var _ fedid.Store = (*Store)(nil)

func dsn(path string, writer bool) string {
	v := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"foreign_keys(1)",
		"busy_timeout(10000)",
		// In WAL mode, NORMAL never corrupts the database and loses
		// nothing when the process crashes; only a power loss or OS crash
		// can lose the last transactions committed before it (FULL would
		// close that window at the cost of an fsync per commit).
		"synchronous(NORMAL)",
		// No memory map: every commit makes each other connection drop
		// its mapping at its next transaction (munmap, then page faults
		// to map it again), which cost a new developer user about 40 µs
		// of CPU more than reading pages with pread; a known user's read
		// costs the same either way (BENCHMARKS.md).
		"mmap_size(0)",
		"cache_size(-16000)",
	} {
		v.Add("_pragma", p)
	}
	if writer {
		v.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + v.Encode()
}

// Open opens (creating if needed) the database file and applies pending
// migrations. A database it cannot write (a read-only file or directory, a
// directory that does not exist) is refused with a message naming it.
// Options say how secrets are sealed (sqlstore.WithMasterKey).
func Open(ctx context.Context, path string, opts ...sqlstore.Option) (_ *Store, err error) {
	var opened []*sql.DB
	defer func() {
		if err != nil {
			for _, db := range opened {
				db.Close()
			}
		}
	}()
	open := func(writer bool, conns int) (*sql.DB, error) {
		db, err := sql.Open("sqlite", dsn(path, writer))
		if err != nil {
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		db.SetConnMaxLifetime(0)
		opened = append(opened, db)
		return db, nil
	}
	if err := checkDir(path); err != nil {
		return nil, err
	}
	w, err := open(true, 1) // SQLite has one writer at a time
	if err != nil {
		return nil, err
	}
	// A store from before compact identities (migration 6) is copied into
	// its new tables; the old ones leave their pages free in the file.
	var was int
	_ = w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&was)
	if err := migrate(ctx, w); err != nil {
		return nil, unwritable(path, err)
	}
	if was > 0 && was < compactVersion {
		if _, err := w.ExecContext(ctx, `VACUUM`); err != nil {
			return nil, sqlDialect.Wrap("vacuum after migrating", err)
		}
	}
	if err := probeWrite(ctx, w); err != nil {
		return nil, unwritable(path, err)
	}
	r, err := open(false, 2*runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, err
	}
	watch, err := open(false, 1)
	if err != nil {
		return nil, err
	}
	// PRAGMA data_version changes whenever another connection commits,
	// this process's others included.
	dataVersion, err := watch.PrepareContext(ctx, `PRAGMA data_version`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	s := &Store{w: w, r: r, watch: watch, dataVersion: dataVersion}
	s.logins = sqlstore.NewLoginCache(func(ctx context.Context) (v int64, err error) {
		err = dataVersion.QueryRowContext(ctx).Scan(&v)
		return v, err
	})
	if s.wq, err = prepare(ctx, w, writePath); err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	if s.rq, err = prepare(ctx, r, readPath); err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	s.Store = sqlDialect.Store(conn{db: r, stmts: s.rq.m}, conn{db: w}, s, sqlstore.Collect(opts))
	n, err := s.SealAtOpen(ctx)
	if err == nil && n > 0 {
		// The rows replaced by their sealed form leave their old bytes in
		// free pages and cells of the file; VACUUM rewrites the file
		// without them.
		_, err = w.ExecContext(ctx, `VACUUM`)
		err = sqlDialect.Wrap("vacuum after sealing", err)
	}
	if err != nil {
		s.Close()
		opened = nil
		return nil, err
	}
	return s, nil
}

// compactVersion is the migration that moved identities and logins into
// compact tables.
const compactVersion = 6

// migrate applies the embedded migrations not yet recorded, each in its own
// transaction.
func migrate(ctx context.Context, db *sql.DB) error { return migrateTo(ctx, db, 0) }

// migrateTo is migrate up to version upTo (0: every version).
func migrateTo(ctx context.Context, db *sql.DB, upTo int) error {
	return sqlDialect.MigrateTo(ctx, conn{db: db}, func(ctx context.Context, fn func(sqlstore.Querier) error) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(txConn{tx: tx}); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	}, upTo)
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return sqlDialect.Wrap("ping", s.r.PingContext(ctx)) }

// Close checkpoints the WAL and closes both pools.
func (s *Store) Close() error {
	if s.rq != nil {
		s.rq.close()
	}
	var errs []error
	if s.watch != nil {
		s.dataVersion.Close()
		errs = append(errs, s.watch.Close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.wq != nil {
		s.wq.close()
	}
	if s.w != nil {
		_, err := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		errs = append(errs, err, s.w.Close())
	}
	return errors.Join(errs...)
}

// isConstraint reports whether err is a UNIQUE or PRIMARY KEY violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// isBusy reports whether err is a transient lock conflict.
func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// Update runs fn in one IMMEDIATE write transaction; busy errors are
// retried a bounded number of times.
func (s *Store) Update(ctx context.Context, fn func(tx fedid.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = s.update(ctx, fn)
		if !sqlDialect.Conflict(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
	return err
}

// rd reads on the reader pool without the login cache (benchmarks compare
// the two).
func (s *Store) rd() sqlstore.Reader { return s.Reader }

// FindLogin implements fedid.Reader through the login cache.
func (s *Store) FindLogin(ctx context.Context, poolID, provider, key string) (string, error) {
	return s.logins.Find(ctx, poolID, provider, key, func() (string, error) {
		return s.Reader.FindLogin(ctx, poolID, provider, key)
	})
}

// LoginCacheStats reports how many login finds the in-memory cache
// answered and how many read the database, since Open.
func (s *Store) LoginCacheStats() (hits, misses uint64) { return s.logins.Stats() }

// LoginCacheSize reports the login cache's entries and estimated bytes.
func (s *Store) LoginCacheSize() (entries, bytes int) { return s.logins.Size() }
