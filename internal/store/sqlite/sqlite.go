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
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/codec"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Synchronous is the synchronous pragma for the database. In WAL mode,
// NORMAL never corrupts the database and loses nothing when the process
// crashes; only a power loss or OS crash can lose the last transactions
// committed before it. FULL closes that window at the cost of an fsync per
// commit. Set it before Open.
var Synchronous = "NORMAL"

// Store is the SQLite implementation of fedid.Store.
type Store struct {
	w, r   *sql.DB
	q      queries
	logins *loginCache
	wq     *txStmts
}

var _ fedid.Store = (*Store)(nil)

func dsn(path string, writer bool) string {
	v := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"foreign_keys(1)",
		"busy_timeout(10000)",
		"synchronous(" + Synchronous + ")",
		"mmap_size(2147418112)",
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
func Open(ctx context.Context, path string) (_ *Store, err error) {
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
	if err := migrate(ctx, w); err != nil {
		return nil, unwritable(path, err)
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
	logins, err := newLoginCache(ctx, watch)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	wq, err := prepareTx(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	s := &Store{w: w, r: r, logins: logins, wq: wq}
	if err := s.q.prepare(ctx, r); err != nil {
		return nil, err
	}
	return s, nil
}

// migrate applies the embedded migrations not yet recorded, each in its own
// transaction.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ns INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	sort.Strings(files)
	var current int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	latest := 0
	for _, f := range files {
		v, err := migrationVersion(f)
		if err != nil {
			return err
		}
		latest = max(latest, v)
		if v <= current {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", f, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate %s: %w", f, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_ns) VALUES (?, ?)`, v, time.Now().UnixNano()); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate %s: %w", f, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", f, err)
		}
	}
	if current > latest {
		return fmt.Errorf("sqlite: database schema version %d is newer than this fedid knows (%d); upgrade fedid", current, latest)
	}
	return nil
}

func migrationVersion(name string) (int, error) {
	base := strings.TrimPrefix(name, "migrations/")
	num, _, _ := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	if err != nil {
		return 0, fmt.Errorf("sqlite: migration file %s has no version number", name)
	}
	return v, nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return wrap("ping", s.r.PingContext(ctx)) }

// Close checkpoints the WAL and closes both pools.
func (s *Store) Close() error {
	s.q.close()
	var errs []error
	if s.logins != nil {
		errs = append(errs, s.logins.close())
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

// wrap adds the operation and maps constraint violations to ErrDuplicate.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: %s: %w", op, fedid.ErrNotFound)
	case isConstraint(err):
		return fmt.Errorf("sqlite: %s: %w", op, fedid.ErrDuplicate)
	default:
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
}

func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Update runs fn in one IMMEDIATE write transaction; busy errors are
// retried a bounded number of times.
func (s *Store) Update(ctx context.Context, fn func(tx fedid.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = s.update(ctx, fn)
		if !isBusy(err) {
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

func (s *Store) update(ctx context.Context, fn func(tx fedid.Tx) error) error {
	defer s.logins.invalidate() // whether or not it commits
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("begin", err)
	}
	if err := fn(&tx{q: cachedTx{tx: sqlTx, stmts: s.wq}}); err != nil {
		sqlTx.Rollback()
		return err
	}
	return wrap("commit", sqlTx.Commit())
}

// PutAccessKey stores or replaces an access key.
func (s *Store) PutAccessKey(ctx context.Context, k fedid.AccessKey) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO access_keys (id, secret, account, created) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, account = excluded.account`,
		k.ID, k.Secret, k.Account, ns(k.Created))
	return wrap("put access key", err)
}

// CountAccessKeys counts the stored access keys.
func (s *Store) CountAccessKeys(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_keys`).Scan(&n)
	return n, wrap("count access keys", err)
}

// UpdateSigningKeys replaces the stored keys with what fn returns, in one
// write transaction.
func (s *Store) UpdateSigningKeys(ctx context.Context, fn func([]fedid.SigningKey) ([]fedid.SigningKey, error)) error {
	return s.Update(ctx, func(t fedid.Tx) error {
		q := t.(*tx).q
		old, err := signingKeys(ctx, q)
		if err != nil {
			return err
		}
		next, err := fn(old)
		if err != nil {
			return err
		}
		return codec.ReplaceKeys(old, next, func(k fedid.SigningKey) error {
			_, err := q.ExecContext(ctx, `INSERT INTO signing_keys (id, seq, private_key, created_ns, active_ns, retired_ns, expires_ns)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, private_key = excluded.private_key, created_ns = excluded.created_ns,
				active_ns = excluded.active_ns, retired_ns = excluded.retired_ns, expires_ns = excluded.expires_ns`,
				k.ID, k.Seq, k.PrivateKey, ns(k.CreatedAt), ns(k.ActiveAt), ns(k.RetiredAt), ns(k.ExpiresAt))
			return wrap("put signing key", err)
		}, func(id string) error {
			_, err := q.ExecContext(ctx, `DELETE FROM signing_keys WHERE id = ?`, id)
			return wrap("delete signing key", err)
		})
	})
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const poolCols = `id, account, region, name, created_ns, version, config`

type scanner interface{ Scan(dest ...any) error }

func scanPool(row scanner) (*fedid.Pool, error) {
	var p fedid.Pool
	var created int64
	var doc string
	if err := row.Scan(&p.ID, &p.Account, &p.Region, &p.Name, &created, &p.Version, &doc); err != nil {
		return nil, err
	}
	p.CreatedAt = fromNS(created)
	return &p, codec.DecodePool(&p, doc)
}

const identityCols = `id, pool_id, authenticated, disabled, created_ns, modified_ns`

func scanIdentity(row scanner) (*fedid.Identity, error) {
	var x fedid.Identity
	var created, modified int64
	if err := row.Scan(&x.ID, &x.PoolID, &x.Authenticated, &x.Disabled, &created, &modified); err != nil {
		return nil, err
	}
	x.CreatedAt, x.ModifiedAt = fromNS(created), fromNS(modified)
	return &x, nil
}

func signingKeys(ctx context.Context, q querier) ([]fedid.SigningKey, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, seq, private_key, created_ns, active_ns, retired_ns, expires_ns FROM signing_keys ORDER BY seq`)
	if err != nil {
		return nil, wrap("signing keys", err)
	}
	defer rows.Close()
	var out []fedid.SigningKey
	for rows.Next() {
		var k fedid.SigningKey
		var c, a, r, e int64
		if err := rows.Scan(&k.ID, &k.Seq, &k.PrivateKey, &c, &a, &r, &e); err != nil {
			return nil, wrap("signing keys", err)
		}
		k.CreatedAt, k.ActiveAt, k.RetiredAt, k.ExpiresAt = fromNS(c), fromNS(a), fromNS(r), fromNS(e)
		out = append(out, k)
	}
	return out, wrap("signing keys", rows.Err())
}
