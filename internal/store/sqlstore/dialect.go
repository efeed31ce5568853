// Package sqlstore is the SQL both of fedid's SQL engines run: every
// statement, the reads, the write transaction's operations and the
// migrations, written once. An engine brings a Dialect (what its SQL and
// its driver's errors look like) and a Querier over its driver, and keeps
// beside it what only it needs: SQLite its prepared statements, login
// cache and busy retries, PostgreSQL its pool, advisory-locked migrations
// and serialization retries.
//
// Statements are written with ? placeholders and PostgreSQL's type names;
// a Dialect translates them once, when New builds its SQL, never per call.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fedid/fedid"
)

// Dialect is what differs between engines.
type Dialect struct {
	// Name prefixes every error ("sqlite", "postgres").
	Name string
	// Numbered placeholders: $1, $2... instead of ?.
	Numbered bool
	// Words replaces whole words of the SQL (type names, FALSE), so that
	// one schema and one set of statements read as each engine expects.
	// The schema ends a table whose primary key is its access path with
	// WITHOUT_ROWID: SQLite's WITHOUT ROWID, nothing on PostgreSQL (whose
	// tables are heaps whatever their key).
	Words map[string]string
	// NoRows is the driver's error for a row that is not there.
	NoRows error
	// Duplicate reports a unique or primary key violation.
	Duplicate func(error) bool
	// Conflict reports an error after which the whole transaction may be
	// run again (SQLite busy, PostgreSQL serialization failure); the
	// engine's Update decides how often and how long.
	Conflict func(error) bool
	// WritableWith: a WITH clause may hold an INSERT (PostgreSQL), so that
	// an identity and its login are written by one statement.
	WritableWith bool

	words *regexp.Regexp // matches the keys of Words; nil when none
}

// compile readies d to translate statements.
func (d *Dialect) compile() {
	if len(d.Words) == 0 {
		return
	}
	words := make([]string, 0, len(d.Words))
	for w := range d.Words {
		words = append(words, regexp.QuoteMeta(w))
	}
	d.words = regexp.MustCompile(`\b(` + strings.Join(words, "|") + `)\b`)
}

// translate renders a statement for the dialect.
func (d *Dialect) translate(q string) string {
	if d.words != nil {
		q = d.words.ReplaceAllStringFunc(q, func(w string) string { return d.Words[w] })
	}
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Wrap adds the engine and the operation to err and maps a missing row to
// fedid.ErrNotFound and a unique violation to fedid.ErrDuplicate.
func (d *Dialect) Wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, d.NoRows):
		return fmt.Errorf("%s: %s: %w", d.Name, op, fedid.ErrNotFound)
	case d.Duplicate(err):
		return fmt.Errorf("%s: %s: %w", d.Name, op, fedid.ErrDuplicate)
	default:
		return fmt.Errorf("%s: %s: %w", d.Name, op, err)
	}
}

// errorf is fmt.Errorf with the engine's prefix.
func (d *Dialect) errorf(format string, args ...any) error {
	return fmt.Errorf(d.Name+": "+format, args...)
}

// Querier runs SQL on a connection pool or in a transaction. Both drivers
// get there through a small adapter of their engine.
type Querier interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Row is one row of a query; Scan returns the dialect's NoRows error when
// there is none.
type Row interface {
	Scan(dest ...any) error
}

// Rows is the result of a query.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Times are stored as Unix nanoseconds, the zero time as 0.

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
