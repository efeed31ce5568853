// Package postgres is fedid's PostgreSQL store, for several stateless fedid
// instances sharing one database.
//
// Every write transaction runs at SERIALIZABLE isolation and is retried on
// serialization failures and deadlocks, so the business rules in
// internal/identity, written as read-then-write, stay correct however
// instances interleave; unique indexes enforce the login invariants.
// Migrations run at start under an advisory lock so that instances starting
// together do not race. Pool size and timeouts come from the URL
// (pgxpool's pool_max_conns, pool_min_conns, pool_max_conn_lifetime,
// pool_max_conn_idle_time, pool_health_check_period, connect_timeout).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/sqlstore"
)

// sqlDialect is PostgreSQL's SQL: numbered placeholders, the schema's
// types as written (no WITHOUT ROWID).
var sqlDialect = sqlstore.New(sqlstore.Dialect{
	Name:         "postgres",
	Numbered:     true,
	Words:        map[string]string{"WITHOUT_ROWID": ""},
	NoRows:       pgx.ErrNoRows,
	Duplicate:    isUniqueViolation,
	Conflict:     retryable,
	WritableWith: true,
})

// migrationLock is the advisory lock key held while migrating.
const migrationLock = 0x66656469 // "fedi"

// A transaction that hit a serialization failure or a deadlock is run
// again after a jittered, exponentially growing pause (from
// retryBackoffMin up to retryBackoffMax) until retryBudget has passed
// since its first attempt, or the context's deadline if that is earlier.
// A fixed number of attempts is not enough: with coarse predicate locks
// (an empty or freshly restarted database, whose planner has no
// statistics) a dozen concurrent writers can keep conflicting for longer.
const (
	retryBudget     = 10 * time.Second
	retryBackoffMin = time.Millisecond
	retryBackoffMax = 100 * time.Millisecond
)

// Store is the PostgreSQL implementation of fedid.Store.
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
	// logins remembers found logins (sqlstore.LoginCache); it reads
	// login_epoch to see other instances' unlinks.
	logins *sqlstore.LoginCache
	// retryFor is how long Update retries a conflicting transaction
	// (retryBudget; tests shorten it).
	retryFor time.Duration
}

var _ fedid.Store = (*Store)(nil)

// Open connects to the database a postgres:// URL names and applies
// pending migrations. Options say how secrets are sealed
// (sqlstore.WithMasterKey).
func Open(ctx context.Context, url string, opts ...sqlstore.Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse URL: %w", redact(err))
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "fedid"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", redact(err))
	}
	s := &Store{pool: pool, retryFor: retryBudget}
	s.logins = sqlstore.NewLoginCache(func(ctx context.Context) (n int64, err error) {
		err = pool.QueryRow(ctx, `SELECT n FROM login_epoch`).Scan(&n)
		return n, err
	})
	s.Store = sqlDialect.Store(pgConn{pool}, pgConn{pool}, s, sqlstore.Collect(opts))
	if err := migrate(ctx, pool, 0); err != nil {
		pool.Close()
		return nil, err
	}
	// The old values stay in dead row versions until autovacuum (or a
	// VACUUM) reclaims them; no query returns them.
	if _, err := s.SealAtOpen(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// redact keeps passwords of connection strings out of error messages.
func redact(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("invalid connection string")
	}
	return err
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return sqlDialect.Wrap("ping", s.pool.Ping(ctx)) }

// migrate applies the migrations not yet recorded, up to version upTo (0:
// every version), under the advisory lock.
func migrate(ctx context.Context, pool *pgxpool.Pool, upTo int) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	return sqlDialect.MigrateTo(ctx, pgConn{conn}, func(ctx context.Context, fn func(sqlstore.Querier) error) error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return fn(pgConn{tx}) })
	}, upTo)
}

// retryable reports whether a transaction failed only because it raced
// another: serialization failure or deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// isUniqueViolation reports whether err is a unique_violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// Update runs fn in a SERIALIZABLE transaction, again (after a jittered
// exponential backoff) whenever it lost a serialization race or a
// deadlock, until the retry budget or the context's deadline runs out; the
// error returned then wraps the last conflict.
func (s *Store) Update(ctx context.Context, fn func(tx fedid.Tx) error) error {
	start := time.Now()
	deadline := start.Add(s.retryFor)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	backoff := retryBackoffMin
	var timer *time.Timer
	for attempt := 1; ; attempt++ {
		err := s.update(ctx, fn)
		if !sqlDialect.Conflict(err) {
			return err
		}
		// Full jitter over [backoff/2, backoff]: writers that collided
		// spread out instead of colliding again in step.
		pause := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, retryBackoffMax)
		if time.Until(deadline) < pause {
			return fmt.Errorf("postgres: transaction still conflicting after %d attempts in %v: %w",
				attempt, time.Since(start).Round(time.Millisecond), err)
		}
		if timer == nil {
			timer = time.NewTimer(pause)
			defer timer.Stop()
		} else {
			timer.Reset(pause)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres: gave up retrying a conflicting transaction after %d attempts: %w (last conflict: %w)",
				attempt, ctx.Err(), err)
		case <-timer.C:
		}
	}
}

func (s *Store) update(ctx context.Context, fn func(tx fedid.Tx) error) error {
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return sqlDialect.Wrap("begin", err)
	}
	// This instance's cache forgets at once what a transaction that
	// unlinked may have made wrong, whether or not it commits; the other
	// instances see login_epoch change with its commit.
	var unlinked bool
	defer func() {
		if unlinked {
			s.logins.Invalidate()
		}
	}()
	err = fn(sqlstore.WatchUnlinks(s.Store.Tx(pgConn{pgTx}), &unlinked))
	if err == nil && unlinked {
		_, err = pgTx.Exec(ctx, countUnlinks)
		err = sqlDialect.Wrap("count unlinks", err)
	}
	if err != nil {
		pgTx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return sqlDialect.Wrap("commit", pgTx.Commit(ctx))
}

// countUnlinks is run by every transaction that deleted or moved logins:
// the login caches of the other instances read login_epoch every few
// milliseconds and forget what they hold when it changed. A statement run
// by hand that deletes or moves logins must be followed by it too (or the
// instances restarted), for the same reason.
const countUnlinks = `UPDATE login_epoch SET n = n + 1`

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

// pgQuerier is what the pool, a connection and a transaction offer.
type pgQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// pgConn is sqlstore's Querier over pgx.
type pgConn struct{ q pgQuerier }

func (c pgConn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (c pgConn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return c.q.Query(ctx, query, args...)
}

func (c pgConn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.q.QueryRow(ctx, query, args...)
}
