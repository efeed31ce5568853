package sqlstore

import (
	"context"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/seal"
	"github.com/fedid/fedid/internal/store/codec"
)

// SQL is a dialect with its statements, built once per engine.
type SQL struct {
	*Dialect
	Statements
	secrets []secretColumn
	statementNames
}

// New translates every statement for d.
func New(d Dialect) *SQL {
	d.compile()
	return &SQL{Dialect: &d, Statements: newStatements(&d), secrets: secretColumns(&d)}
}

// Reader implements fedid.Reader with the queries of q (the engine's read
// connections, or a transaction), opening secrets with key (nil: stored
// in plaintext).
func (s *SQL) Reader(q Querier, key *seal.Key) Reader { return Reader{s: s, q: q, key: key} }

// Reader implements fedid.Reader.
type Reader struct {
	s   *SQL
	q   Querier
	key *seal.Key
}

var _ fedid.Reader = Reader{}

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

func scanIdentity(row scanner) (*fedid.Identity, error) {
	var x fedid.Identity
	var created, modified int64
	if err := row.Scan(&x.ID, &x.PoolID, &x.Authenticated, &x.Disabled, &created, &modified); err != nil {
		return nil, err
	}
	x.CreatedAt, x.ModifiedAt = fromNS(created), fromNS(modified)
	return &x, nil
}

// GetAccessKey implements fedid.Reader.
func (r Reader) GetAccessKey(ctx context.Context, id string) (*fedid.AccessKey, error) {
	var k fedid.AccessKey
	var created, used int64
	var secret string
	if err := r.q.QueryRow(ctx, r.s.AccessKey, id).Scan(&k.ID, &secret, &k.Account, &created, &used); err != nil {
		return nil, r.s.Wrap("get access key", err)
	}
	k.Created, k.LastUsed = fromNS(created), fromNS(used)
	var err error
	if k.Secret, err = r.openString(secret, "access_keys", k.ID); err != nil {
		return nil, err
	}
	return &k, nil
}

// GetPool implements fedid.Reader.
func (r Reader) GetPool(ctx context.Context, id string) (*fedid.Pool, error) {
	p, err := scanPool(r.q.QueryRow(ctx, r.s.Pool, id))
	if err != nil {
		return nil, r.s.Wrap("get pool", err)
	}
	return p, nil
}

// ListPools implements fedid.Reader.
func (r Reader) ListPools(ctx context.Context, account, region string, after fedid.Cursor, limit int) ([]*fedid.Pool, error) {
	query, args := r.s.listPools, []any{account, region, ns(after.CreatedAt), after.ID, limit}
	if account == "" {
		query, args = r.s.listAllPools, args[2:]
	}
	rows, err := r.q.Query(ctx, query, args...)
	if err != nil {
		return nil, r.s.Wrap("list pools", err)
	}
	defer rows.Close()
	var out []*fedid.Pool
	for rows.Next() {
		p, err := scanPool(rows)
		if err != nil {
			return nil, r.s.Wrap("list pools", err)
		}
		out = append(out, p)
	}
	return out, r.s.Wrap("list pools", rows.Err())
}

// CountPools implements fedid.Reader.
func (r Reader) CountPools(ctx context.Context, account, region string) (int, error) {
	var n int
	err := r.q.QueryRow(ctx, r.s.countPools, account, region).Scan(&n)
	return n, r.s.Wrap("count pools", err)
}

// GetIdentity implements fedid.Reader.
func (r Reader) GetIdentity(ctx context.Context, id string) (*fedid.Identity, error) {
	x, err := scanIdentity(r.q.QueryRow(ctx, r.s.Identity, id))
	if err != nil {
		return nil, r.s.Wrap("get identity", err)
	}
	rows, err := r.q.Query(ctx, r.s.IdentityLogins, id)
	if err != nil {
		return nil, r.s.Wrap("identity logins", err)
	}
	defer rows.Close()
	// One row buffer for all rows: what Scan gets through the Rows
	// interface escapes, and would be allocated again for every login.
	var row loginRow
	for rows.Next() {
		if err := rows.Scan(&row.Provider, &row.Key, &row.Developer, &row.linked); err != nil {
			return nil, r.s.Wrap("identity logins", err)
		}
		x.Logins = append(x.Logins, row.login())
	}
	if err := rows.Err(); err != nil {
		return nil, r.s.Wrap("identity logins", err)
	}
	return x, nil
}

// loginRow is a row of logins as it is scanned.
type loginRow struct {
	fedid.Login
	identity string
	linked   int64
}

func (r *loginRow) login() fedid.Login {
	l := r.Login
	l.LinkedAt = fromNS(r.linked)
	return l
}

// FindLogin implements fedid.Reader.
func (r Reader) FindLogin(ctx context.Context, poolID, provider, key string) (string, error) {
	var id string
	if err := r.q.QueryRow(ctx, r.s.FindLogin, poolID, provider, key).Scan(&id); err != nil {
		return "", r.s.Wrap("find login", err)
	}
	return id, nil
}

// ListIdentities implements fedid.Reader.
func (r Reader) ListIdentities(ctx context.Context, poolID string, after fedid.Cursor, limit int, hideDisabled bool) ([]*fedid.Identity, error) {
	q := r.s.listIdentities
	if hideDisabled {
		q = r.s.listVisible
	}
	rows, err := r.q.Query(ctx, q, poolID, ns(after.CreatedAt), after.ID, limit)
	if err != nil {
		return nil, r.s.Wrap("list identities", err)
	}
	var out []*fedid.Identity
	for rows.Next() {
		x, err := scanIdentity(rows)
		if err != nil {
			rows.Close()
			return nil, r.s.Wrap("list identities", err)
		}
		out = append(out, x)
	}
	// Closed before the logins are read: SQLite's transaction has one
	// connection, which a second open result set would wait for.
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, r.s.Wrap("list identities", err)
	}
	for page := out; len(page) > 0; {
		n := min(len(page), maxBatch)
		if err := r.loginsOf(ctx, page[:n]); err != nil {
			return nil, err
		}
		page = page[n:]
	}
	return out, nil
}

// loginsOf sets the logins of up to maxBatch identities with one query.
func (r Reader) loginsOf(ctx context.Context, xs []*fedid.Identity) error {
	byID := make(map[string]*fedid.Identity, len(xs))
	ids := make([]any, len(xs))
	for i, x := range xs {
		byID[x.ID], ids[i] = x, x.ID
	}
	rows, err := r.q.Query(ctx, r.s.loginsOf[len(xs)], ids...)
	if err != nil {
		return r.s.Wrap("identity logins", err)
	}
	defer rows.Close()
	var row loginRow
	for rows.Next() {
		if err := rows.Scan(&row.identity, &row.Provider, &row.Key, &row.Developer, &row.linked); err != nil {
			return r.s.Wrap("identity logins", err)
		}
		if x := byID[row.identity]; x != nil {
			x.Logins = append(x.Logins, row.login())
		}
	}
	return r.s.Wrap("identity logins", rows.Err())
}

// SigningKeys implements fedid.Reader.
func (r Reader) SigningKeys(ctx context.Context) ([]fedid.SigningKey, error) {
	rows, err := r.q.Query(ctx, r.s.signingKeys)
	if err != nil {
		return nil, r.s.Wrap("signing keys", err)
	}
	defer rows.Close()
	var out []fedid.SigningKey
	for rows.Next() {
		var k fedid.SigningKey
		var c, a, rt, e int64
		var stored []byte
		if err := rows.Scan(&k.ID, &k.Seq, &stored, &c, &a, &rt, &e); err != nil {
			return nil, r.s.Wrap("signing keys", err)
		}
		var err error
		if k.PrivateKey, err = r.openBytes(stored, "signing_keys", k.ID); err != nil {
			return nil, err
		}
		k.CreatedAt, k.ActiveAt, k.RetiredAt, k.ExpiresAt = fromNS(c), fromNS(a), fromNS(rt), fromNS(e)
		out = append(out, k)
	}
	return out, r.s.Wrap("signing keys", rows.Err())
}
