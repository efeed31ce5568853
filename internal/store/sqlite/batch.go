package sqlite

import (
	"context"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/sqlstore"
)

// Write transactions are committed in groups. SQLite has one writer, so
// concurrent Update calls wait for it anyway; instead of each taking the
// lock, writing its pages to the WAL and committing in turn, the first
// caller to find the writer free leads: it runs its own call and every call
// waiting (up to maxWriteBatch) one after another in one IMMEDIATE
// transaction, each inside a SAVEPOINT of its own, commits once, and wakes
// the others with their results. While more calls wait it leads further
// batches, up to maxLeadWriteBatches, then hands the lead to the oldest
// waiter, so no caller serves the others for long. One lock cycle and one
// WAL append of the pages the batch shares serve the whole batch: most of
// what a new identity cost beyond its reads. A call with nobody waiting
// runs in a transaction of its own, without a savepoint, as before.
//
// Each call keeps the meaning of its own transaction: when it fails, ROLLBACK
// TO its savepoint undoes all its writes and nothing of the others; calls
// run one after another, so each sees the writes of those before it, as
// serial transactions would; a call's result is handed back only once the
// batch committed. If the commit fails, every call in the batch gets that
// error (none of their writes stayed). A panic in a call is recovered,
// rolled back to its savepoint and raised again in the caller's goroutine.
//
// database/sql would interrupt a statement whose context ends, and SQLite
// rolls back the whole transaction when it interrupts a write inside one,
// which would undo the other calls of the batch: in a batch the statements
// run without their contexts' cancellation (a call is a few short
// statements); a call whose context ended before its turn is not run.
const (
	maxWriteBatch       = 64
	maxLeadWriteBatches = 4
)

// writeCall is one Update waiting for the writer. wake receives true when
// err and panicked are set, false when its goroutine is to lead the next
// batch (its own call among it).
type writeCall struct {
	ctx      context.Context
	fn       func(fedid.Tx) error
	err      error
	panicked any
	wake     chan bool
}

// update runs fn in a write transaction, alone or in a batch.
func (s *Store) update(ctx context.Context, fn func(tx fedid.Tx) error) error {
	c := &writeCall{ctx: ctx, fn: fn}
	s.wmu.Lock()
	if !s.writing {
		s.writing = true
		s.wmu.Unlock()
		s.leadWrites(c)
	} else {
		c.wake = make(chan bool, 1)
		s.wqueue = append(s.wqueue, c)
		s.wmu.Unlock()
		if done := <-c.wake; !done {
			s.leadWrites(c)
		}
	}
	if c.panicked != nil {
		panic(c.panicked)
	}
	return c.err
}

// leadWrites runs c and the calls waiting in batches; see above.
func (s *Store) leadWrites(c *writeCall) {
	batch := make([]*writeCall, 0, maxWriteBatch)
	batch = append(batch, c)
	for b := 1; ; b++ {
		s.wmu.Lock()
		n := min(len(s.wqueue), maxWriteBatch-len(batch))
		batch = append(batch, s.wqueue[:n]...)
		s.wqueue = s.wqueue[:copy(s.wqueue, s.wqueue[n:])]
		s.wmu.Unlock()
		s.runWrites(batch)
		for _, x := range batch {
			if x != c {
				x.wake <- true
			}
		}
		batch = batch[:0]
		s.wmu.Lock()
		if len(s.wqueue) == 0 {
			s.writing = false
			s.wmu.Unlock()
			return
		}
		if b == maxLeadWriteBatches {
			next := s.wqueue[0]
			s.wqueue = s.wqueue[:copy(s.wqueue, s.wqueue[1:])]
			s.wmu.Unlock()
			next.wake <- false
			return
		}
		s.wmu.Unlock()
	}
}

// runWrites runs one batch and sets each call's result.
func (s *Store) runWrites(calls []*writeCall) {
	s.writeCalls.Add(uint64(len(calls)))
	s.commits.Add(1)
	unlinked := false
	defer func() {
		if unlinked { // whether or not it commits
			s.logins.Invalidate()
		}
	}()
	if len(calls) == 1 {
		calls[0].err = s.runAlone(calls[0], &unlinked)
		return
	}
	ctx := context.Background()
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		for _, c := range calls {
			c.err = sqlDialect.Wrap("begin", err)
		}
		return
	}
	defer sqlTx.Rollback() // a no-op after Commit
	tc := txConn{tx: sqlTx, stmts: s.wq.m, detach: true}
	var broken error // a savepoint that failed: the transaction is lost
	ran := calls[:0:0]
	for _, c := range calls {
		if broken != nil {
			c.err = broken
			continue
		}
		if err := c.ctx.Err(); err != nil {
			c.err = err
			continue
		}
		if _, err := sqlTx.ExecContext(ctx, `SAVEPOINT call`); err != nil {
			broken = sqlDialect.Wrap("savepoint", err)
			c.err = broken
			continue
		}
		c.err, c.panicked = guard(c.fn, sqlstore.WatchUnlinks(s.Store.Tx(tc), &unlinked))
		if c.err != nil || c.panicked != nil {
			if _, err := sqlTx.ExecContext(ctx, `ROLLBACK TO call`); err != nil {
				broken = sqlDialect.Wrap("rollback to savepoint", err)
			}
		}
		if broken == nil {
			if _, err := sqlTx.ExecContext(ctx, `RELEASE call`); err != nil {
				broken = sqlDialect.Wrap("release savepoint", err)
			}
		}
		if c.err == nil && c.panicked == nil {
			ran = append(ran, c)
		}
	}
	if broken == nil {
		broken = sqlDialect.Wrap("commit", sqlTx.Commit())
	}
	if broken != nil {
		for _, c := range ran {
			c.err = broken
		}
	}
}

// runAlone runs one call in a transaction of its own; *unlinked is set
// when it unlinked logins.
func (s *Store) runAlone(c *writeCall, unlinked *bool) error {
	sqlTx, err := s.w.BeginTx(c.ctx, nil)
	if err != nil {
		return sqlDialect.Wrap("begin", err)
	}
	// Also when fn panics: the one writer connection must not stay in an
	// open transaction (a no-op after Commit).
	defer sqlTx.Rollback()
	err, c.panicked = guard(c.fn, sqlstore.WatchUnlinks(s.Store.Tx(txConn{tx: sqlTx, stmts: s.wq.m}), unlinked))
	if err != nil || c.panicked != nil {
		return err
	}
	return sqlDialect.Wrap("commit", sqlTx.Commit())
}

// guard runs fn, returning what it panicked with instead of panicking: the
// batch's other calls and the writer must go on.
func guard(fn func(fedid.Tx) error, tx fedid.Tx) (err error, panicked any) {
	defer func() { panicked = recover() }()
	return fn(tx), nil
}

// WriteStats reports how many write calls ran and in how many
// transactions, since Open.
func (s *Store) WriteStats() (calls, commits uint64) {
	return s.writeCalls.Load(), s.commits.Load()
}
