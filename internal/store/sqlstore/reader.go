package sqlstore

import (
	"context"
	"errors"
	"slices"
	"strings"

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

// scanIdentity reads an identity of the Identity statement, whose key is
// key and whose ID has region as its prefix; the dialect's NoRows when its
// pool is of another region.
func (s *SQL) scanIdentity(row scanner, region string, key []byte) (*fedid.Identity, error) {
	var x fedid.Identity
	var created, modified int64
	var poolRegion string
	if err := row.Scan(&poolRegion, &x.PoolID, &x.Authenticated, &x.Disabled, &created, &modified); err != nil {
		return nil, err
	}
	if poolRegion != region {
		return nil, s.NoRows
	}
	x.ID = identityID(region, key)
	x.CreatedAt, x.ModifiedAt = fromNS(created), fromNS(modified)
	return &x, nil
}

// scanListed reads an identity of the listing statements, of a pool of
// region.
func scanListed(row scanner, poolID, region string) (*fedid.Identity, error) {
	x := fedid.Identity{PoolID: poolID}
	var created, modified int64
	var key []byte
	if err := row.Scan(&key, &x.Authenticated, &x.Disabled, &created, &modified); err != nil {
		return nil, err
	}
	x.ID = identityID(region, key)
	x.CreatedAt, x.ModifiedAt = fromNS(created), fromNS(modified)
	return &x, nil
}

// sortLogins puts an identity's logins in link order; logins linked at
// the same instant by provider, then key.
func sortLogins(ls []fedid.Login) {
	slices.SortFunc(ls, func(a, b fedid.Login) int {
		if c := a.LinkedAt.Compare(b.LinkedAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.Provider, b.Provider); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
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
	region, key := identityKey(id)
	x, err := r.s.scanIdentity(r.q.QueryRow(ctx, r.s.Identity, key), region, key)
	if err != nil {
		return nil, r.s.Wrap("get identity", err)
	}
	rows, err := r.q.Query(ctx, r.s.IdentityLogins, key)
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
	sortLogins(x.Logins)
	return x, nil
}

// loginRow is a row of logins as it is scanned.
type loginRow struct {
	fedid.Login
	identity []byte
	linked   int64
}

func (r *loginRow) login() fedid.Login {
	l := r.Login
	l.LinkedAt = fromNS(r.linked)
	return l
}

// FindLogin implements fedid.Reader.
func (r Reader) FindLogin(ctx context.Context, poolID, provider, key string) (string, error) {
	var region string
	var id []byte
	if err := r.q.QueryRow(ctx, r.s.FindLogin, poolID, provider, key).Scan(&region, &id); err != nil {
		return "", r.s.Wrap("find login", err)
	}
	return identityID(region, id), nil
}

// ListIdentities implements fedid.Reader.
func (r Reader) ListIdentities(ctx context.Context, poolID string, after fedid.Cursor, limit int, hideDisabled bool) ([]*fedid.Identity, error) {
	var num int64
	var region string
	if err := r.q.QueryRow(ctx, r.s.poolNum, poolID).Scan(&num, &region); err != nil {
		if err = r.s.Wrap("list identities", err); errors.Is(err, fedid.ErrNotFound) {
			return nil, nil // no pool, no identities
		}
		return nil, err
	}
	q := r.s.listIdentities
	if hideDisabled {
		q = r.s.listVisible
	}
	// From the start: before every key, even the empty one.
	afterNS, afterKey := ns(after.CreatedAt), keyOf(after.ID)
	if after.IsZero() {
		afterNS = -1
	}
	rows, err := r.q.Query(ctx, q, num, afterNS, afterKey, limit)
	if err != nil {
		return nil, r.s.Wrap("list identities", err)
	}
	var out []*fedid.Identity
	for rows.Next() {
		x, err := scanListed(rows, poolID, region)
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
	byKey := make(map[string]*fedid.Identity, len(xs))
	keys := make([]any, len(xs))
	for i, x := range xs {
		k := keyOf(x.ID)
		byKey[string(k)], keys[i] = x, k
	}
	rows, err := r.q.Query(ctx, r.s.loginsOf[len(xs)], keys...)
	if err != nil {
		return r.s.Wrap("identity logins", err)
	}
	defer rows.Close()
	var row loginRow
	for rows.Next() {
		if err := rows.Scan(&row.identity, &row.Provider, &row.Key, &row.Developer, &row.linked); err != nil {
			return r.s.Wrap("identity logins", err)
		}
		if x := byKey[string(row.identity)]; x != nil {
			x.Logins = append(x.Logins, row.login())
		}
	}
	for _, x := range xs {
		sortLogins(x.Logins)
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
