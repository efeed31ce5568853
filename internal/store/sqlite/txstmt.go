package sqlite

import (
	"context"
	"database/sql"

	"github.com/fedid/fedid/internal/store/sqlstore"
)

// txStmts keeps the statements of the hot paths prepared, so that they
// are bound instead of compiled again: compiling was a tenth of a new
// identity's CPU. The write path's are prepared on the writer's one
// connection (sql.Tx.StmtContext reuses a statement prepared on its own
// connection), at open, while the connection is free: preparing later,
// from inside a transaction holding it, would wait for it forever. Other
// SQL runs as it is.
type txStmts struct {
	m map[string]*sql.Stmt
}

var (
	// readPath are the reads of a token for a known user and of the
	// credentials that follow, on the reader pool.
	readPath = []string{sqlDialect.AccessKey, sqlDialect.Pool, sqlDialect.FindLogin,
		sqlDialect.Identity, sqlDialect.IdentityLogins}
	// writePath are a new identity and its login and the reads that come
	// before them.
	writePath = []string{sqlDialect.FindLogin, sqlDialect.Pool, sqlDialect.Identity, sqlDialect.IdentityLogins,
		sqlDialect.InsertIdentity, sqlDialect.UpdateIdentity, sqlDialect.InsertLogin}
)

func prepare(ctx context.Context, db *sql.DB, queries []string) (*txStmts, error) {
	c := &txStmts{m: map[string]*sql.Stmt{}}
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			c.close()
			return nil, err
		}
		c.m[q] = st
	}
	return c, nil
}

func (c *txStmts) close() {
	for _, st := range c.m {
		st.Close()
	}
	clear(c.m)
}

// conn is sqlstore's Querier over a pool, with its prepared statements.
type conn struct {
	db    *sql.DB
	stmts map[string]*sql.Stmt
}

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	var res sql.Result
	var err error
	if st := c.stmts[query]; st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = c.db.ExecContext(ctx, query, args...)
	}
	return affected(res, err)
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	if st := c.stmts[query]; st != nil {
		return rows(st.QueryContext(ctx, args...))
	}
	return rows(c.db.QueryContext(ctx, query, args...))
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	if st := c.stmts[query]; st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}

// txConn is sqlstore's Querier over a write transaction, binding the
// write path's prepared statements.
type txConn struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	// detach runs statements without their context's cancellation (a
	// batch of writes, batch.go).
	detach bool
}

func (c txConn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if c.detach {
		ctx = context.WithoutCancel(ctx)
	}
	if st := c.stmts[query]; st != nil {
		return affected(c.tx.StmtContext(ctx, st).ExecContext(ctx, args...))
	}
	return affected(c.tx.ExecContext(ctx, query, args...))
}

func (c txConn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	if c.detach {
		ctx = context.WithoutCancel(ctx)
	}
	if st := c.stmts[query]; st != nil {
		return rows(c.tx.StmtContext(ctx, st).QueryContext(ctx, args...))
	}
	return rows(c.tx.QueryContext(ctx, query, args...))
}

func (c txConn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	if c.detach {
		ctx = context.WithoutCancel(ctx)
	}
	if st := c.stmts[query]; st != nil {
		return c.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return c.tx.QueryRowContext(ctx, query, args...)
}

func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// sqlRows gives *sql.Rows the Close of sqlstore.Rows, which has nothing
// to report: its error, if any, is Err's.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

func rows(r *sql.Rows, err error) (sqlstore.Rows, error) {
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}
