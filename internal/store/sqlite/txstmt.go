package sqlite

import (
	"context"
	"database/sql"
)

// txStmts keeps the statements of the write path prepared on the writer's
// one connection, so that a transaction binds them (sql.Tx.StmtContext
// reuses a statement prepared on its own connection) instead of compiling
// their SQL again: compiling was a tenth of a new identity's CPU. They are
// prepared at open, while the connection is free (preparing later, from
// inside a transaction holding it, would wait for it forever); other SQL
// runs as it is.
type txStmts struct {
	m map[string]*sql.Stmt
}

// txQueries are the write path's statements: a new identity and its login
// and the reads that come before them.
var txQueries = []string{qFindLogin, qPool, qIdentity, qIdentityLogins, qInsertIdentity, qUpdateIdentity, qInsertLogin}

func prepareTx(ctx context.Context, db *sql.DB) (*txStmts, error) {
	c := &txStmts{m: map[string]*sql.Stmt{}}
	for _, q := range txQueries {
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

// cachedTx is a write transaction that binds txStmts' statements.
type cachedTx struct {
	tx    *sql.Tx
	stmts *txStmts
}

func (c cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := c.stmts.m[query]; st != nil {
		return c.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return c.tx.ExecContext(ctx, query, args...)
}

func (c cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := c.stmts.m[query]; st != nil {
		return c.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return c.tx.QueryContext(ctx, query, args...)
}

func (c cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := c.stmts.m[query]; st != nil {
		return c.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return c.tx.QueryRowContext(ctx, query, args...)
}
