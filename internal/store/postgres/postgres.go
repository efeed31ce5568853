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
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/codec"
)

//go:embed migrations/*.sql
var migrations embed.FS

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
	reader
	pool *pgxpool.Pool
	// retryFor is how long Update retries a conflicting transaction
	// (retryBudget; tests shorten it).
	retryFor time.Duration
}

var _ fedid.Store = (*Store)(nil)

// Open connects to the database a postgres:// URL names and applies
// pending migrations.
func Open(ctx context.Context, url string) (*Store, error) {
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
	s := &Store{reader: reader{q: pool}, pool: pool, retryFor: retryBudget}
	if err := s.migrate(ctx); err != nil {
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
func (s *Store) Ping(ctx context.Context) error { return wrap("ping", s.pool.Ping(ctx)) }

func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ns BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	sort.Strings(files)
	var current int
	if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	latest := 0
	for _, f := range files {
		num, _, _ := strings.Cut(strings.TrimPrefix(f, "migrations/"), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("postgres: migration file %s has no version number", f)
		}
		latest = max(latest, v)
		if v <= current {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_ns) VALUES ($1, $2)`, v, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migrate %s: %w", f, err)
		}
	}
	if current > latest {
		return fmt.Errorf("postgres: database schema version %d is newer than this fedid knows (%d); upgrade fedid", current, latest)
	}
	return nil
}

// retryable reports whether a transaction failed only because it raced
// another: serialization failure or deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// wrap adds the operation and maps unique violations to ErrDuplicate and
// missing rows to ErrNotFound.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, fedid.ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("postgres: %s: %w", op, fedid.ErrDuplicate)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
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
		if !retryable(err) {
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
		return wrap("begin", err)
	}
	if err := fn(newTx(pgTx)); err != nil {
		pgTx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return wrap("commit", pgTx.Commit(ctx))
}

// PutAccessKey stores or replaces an access key.
func (s *Store) PutAccessKey(ctx context.Context, k fedid.AccessKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO access_keys (id, secret, account, created) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, account = excluded.account`,
		k.ID, k.Secret, k.Account, ns(k.Created))
	return wrap("put access key", err)
}

// CountAccessKeys counts the stored access keys.
func (s *Store) CountAccessKeys(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM access_keys`).Scan(&n)
	return n, wrap("count access keys", err)
}

// UpdateSigningKeys replaces the stored keys with what fn returns, in one
// serializable transaction.
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
			_, err := q.Exec(ctx, `INSERT INTO signing_keys (id, seq, private_key, created_ns, active_ns, retired_ns, expires_ns)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, private_key = excluded.private_key, created_ns = excluded.created_ns,
				active_ns = excluded.active_ns, retired_ns = excluded.retired_ns, expires_ns = excluded.expires_ns`,
				k.ID, k.Seq, k.PrivateKey, ns(k.CreatedAt), ns(k.ActiveAt), ns(k.RetiredAt), ns(k.ExpiresAt))
			return wrap("put signing key", err)
		}, func(id string) error {
			_, err := q.Exec(ctx, `DELETE FROM signing_keys WHERE id = $1`, id)
			return wrap("delete signing key", err)
		})
	})
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func signingKeys(ctx context.Context, q querier) ([]fedid.SigningKey, error) {
	rows, err := q.Query(ctx, `SELECT id, seq, private_key, created_ns, active_ns, retired_ns, expires_ns FROM signing_keys ORDER BY seq`)
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

const (
	poolCols     = `id, account, region, name, created_ns, version, config`
	identityCols = `id, pool_id, authenticated, disabled, created_ns, modified_ns`
)

func scanPool(row pgx.Row) (*fedid.Pool, error) {
	var p fedid.Pool
	var created int64
	var doc string
	if err := row.Scan(&p.ID, &p.Account, &p.Region, &p.Name, &created, &p.Version, &doc); err != nil {
		return nil, err
	}
	p.CreatedAt = fromNS(created)
	return &p, codec.DecodePool(&p, doc)
}

func scanIdentity(row pgx.Row) (*fedid.Identity, error) {
	var x fedid.Identity
	var created, modified int64
	if err := row.Scan(&x.ID, &x.PoolID, &x.Authenticated, &x.Disabled, &created, &modified); err != nil {
		return nil, err
	}
	x.CreatedAt, x.ModifiedAt = fromNS(created), fromNS(modified)
	return &x, nil
}

// reader implements fedid.Reader over the pool or a transaction.
type reader struct{ q querier }

func (r reader) GetAccessKey(ctx context.Context, id string) (*fedid.AccessKey, error) {
	var k fedid.AccessKey
	var created int64
	err := r.q.QueryRow(ctx, `SELECT id, secret, account, created FROM access_keys WHERE id = $1`, id).
		Scan(&k.ID, &k.Secret, &k.Account, &created)
	if err != nil {
		return nil, wrap("get access key", err)
	}
	k.Created = fromNS(created)
	return &k, nil
}

func (r reader) GetPool(ctx context.Context, id string) (*fedid.Pool, error) {
	p, err := scanPool(r.q.QueryRow(ctx, `SELECT `+poolCols+` FROM pools WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("get pool", err)
	}
	return p, nil
}

func (r reader) ListPools(ctx context.Context, account, region string, after fedid.Cursor, limit int) ([]*fedid.Pool, error) {
	rows, err := r.q.Query(ctx, `SELECT `+poolCols+` FROM pools
		WHERE account = $1 AND region = $2 AND (created_ns, id) > ($3, $4)
		ORDER BY created_ns, id LIMIT $5`, account, region, ns(after.CreatedAt), after.ID, limit)
	if err != nil {
		return nil, wrap("list pools", err)
	}
	defer rows.Close()
	var out []*fedid.Pool
	for rows.Next() {
		p, err := scanPool(rows)
		if err != nil {
			return nil, wrap("list pools", err)
		}
		out = append(out, p)
	}
	return out, wrap("list pools", rows.Err())
}

func (r reader) CountPools(ctx context.Context, account, region string) (int, error) {
	var n int
	err := r.q.QueryRow(ctx, `SELECT COUNT(*) FROM pools WHERE account = $1 AND region = $2`, account, region).Scan(&n)
	return n, wrap("count pools", err)
}

func (r reader) GetIdentity(ctx context.Context, id string) (*fedid.Identity, error) {
	x, err := scanIdentity(r.q.QueryRow(ctx, `SELECT `+identityCols+` FROM identities WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("get identity", err)
	}
	if x.Logins, err = r.logins(ctx, []string{id}, map[string]*fedid.Identity{id: x}); err != nil {
		return nil, err
	}
	return x, nil
}

// logins loads the logins of several identities in one query and returns
// those of ids[0] (the others are set on byID).
func (r reader) logins(ctx context.Context, ids []string, byID map[string]*fedid.Identity) ([]fedid.Login, error) {
	rows, err := r.q.Query(ctx, `SELECT identity_id, provider, key, developer, linked_ns FROM logins
		WHERE identity_id = ANY($1) ORDER BY identity_id, linked_ns, provider, key`, ids)
	if err != nil {
		return nil, wrap("identity logins", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var l fedid.Login
		var linked int64
		if err := rows.Scan(&id, &l.Provider, &l.Key, &l.Developer, &linked); err != nil {
			return nil, wrap("identity logins", err)
		}
		l.LinkedAt = fromNS(linked)
		if x := byID[id]; x != nil {
			x.Logins = append(x.Logins, l)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("identity logins", err)
	}
	return byID[ids[0]].Logins, nil
}

func (r reader) FindLogin(ctx context.Context, poolID, provider, key string) (string, error) {
	var id string
	err := r.q.QueryRow(ctx, `SELECT identity_id FROM logins WHERE pool_id = $1 AND provider = $2 AND key = $3`,
		poolID, provider, key).Scan(&id)
	if err != nil {
		return "", wrap("find login", err)
	}
	return id, nil
}

func (r reader) ListIdentities(ctx context.Context, poolID string, after fedid.Cursor, limit int, hideDisabled bool) ([]*fedid.Identity, error) {
	q := `SELECT ` + identityCols + ` FROM identities i WHERE pool_id = $1 AND (created_ns, id) > ($2, $3)`
	if hideDisabled {
		q += ` AND NOT disabled AND (NOT authenticated OR EXISTS (SELECT 1 FROM logins l WHERE l.identity_id = i.id))`
	}
	q += ` ORDER BY created_ns, id LIMIT $4`
	rows, err := r.q.Query(ctx, q, poolID, ns(after.CreatedAt), after.ID, limit)
	if err != nil {
		return nil, wrap("list identities", err)
	}
	var out []*fedid.Identity
	byID := map[string]*fedid.Identity{}
	var ids []string
	for rows.Next() {
		x, err := scanIdentity(rows)
		if err != nil {
			rows.Close()
			return nil, wrap("list identities", err)
		}
		out = append(out, x)
		byID[x.ID] = x
		ids = append(ids, x.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("list identities", err)
	}
	if len(ids) > 0 {
		if _, err := r.logins(ctx, ids, byID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r reader) SigningKeys(ctx context.Context) ([]fedid.SigningKey, error) {
	return signingKeys(ctx, r.q)
}
