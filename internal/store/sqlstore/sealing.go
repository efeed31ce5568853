package sqlstore

import (
	"context"
	"log/slog"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/seal"
)

// Options configure a store as its engine opens it.
type Options struct {
	// MasterKey seals the secrets the store writes and opens those it
	// reads; nil keeps them in plaintext, as before master keys.
	MasterKey *seal.Key
	// Previous are keys the store's secrets may still be sealed with: at
	// open, every secret sealed with one of them (and every plaintext one)
	// is sealed again with MasterKey, in one transaction. That is the
	// rotation of the master key.
	Previous []*seal.Key
	// Log tells when the store sealed its secrets at open; nil is
	// slog.Default().
	Log *slog.Logger
	// Observe, when set, is told each statement's duration.
	Observe QueryObserver
}

// Option sets one of the Options.
type Option func(*Options)

// WithMasterKey seals the store's secrets with k (nil: plaintext).
func WithMasterKey(k *seal.Key) Option { return func(o *Options) { o.MasterKey = k } }

// WithPreviousKeys lets the store re-seal, at open, secrets sealed with ks.
func WithPreviousKeys(ks ...*seal.Key) Option {
	return func(o *Options) { o.Previous = append(o.Previous, ks...) }
}

// WithLogger sets where the store says that it sealed its secrets.
func WithLogger(l *slog.Logger) Option { return func(o *Options) { o.Log = l } }

// Collect applies opts to the zero Options.
func Collect(opts []Option) Options {
	var o Options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// secretColumn is a column that holds a secret, with its table's primary
// key: the row identity bound to the sealed value is "<table>/<key>".
type secretColumn struct {
	table, pk, col string
	// bytea columns are scanned and written as []byte, text ones as
	// string (pgx encodes []byte as bytea only).
	bytea bool
	// all reads every (key, value); set writes one value.
	all, set string
}

// secretColumns are every column of the schema that holds a secret.
func secretColumns(d *Dialect) []secretColumn {
	cols := []secretColumn{
		{table: "access_keys", pk: "id", col: "secret"},
		{table: "signing_keys", pk: "id", col: "private_key", bytea: true},
		{table: "sessions", pk: "access_key_id", col: "secret"},
	}
	for i := range cols {
		c := &cols[i]
		c.all = d.translate(`SELECT ` + c.pk + `, ` + c.col + ` FROM ` + c.table + ` ORDER BY ` + c.pk)
		c.set = d.translate(`UPDATE ` + c.table + ` SET ` + c.col + ` = ? WHERE ` + c.pk + ` = ?`)
	}
	return cols
}

// rowID is the associated data of a sealed value: the identity of its row.
func rowID(table, pk string) string { return table + "/" + pk }

// Census counts the stored secrets by the ID of the master key that seals
// them; plaintext ones count under "".
func (s *Store) Census(ctx context.Context) (map[string]int, error) {
	return census(ctx, s.s, s.q)
}

func census(ctx context.Context, s *SQL, q Querier) (map[string]int, error) {
	out := map[string]int{}
	for _, c := range s.secrets {
		err := eachSecret(ctx, s, q, c, func(_ string, v []byte) error {
			out[seal.KeyID(v)]++
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// eachSecret calls fn with every (primary key, stored value) of a column.
func eachSecret(ctx context.Context, s *SQL, q Querier, c secretColumn, fn func(pk string, v []byte) error) error {
	rows, err := q.Query(ctx, c.all)
	if err != nil {
		return s.Wrap("read "+c.table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var pk string
		var v []byte
		if c.bytea {
			err = rows.Scan(&pk, &v)
		} else {
			var text string
			err = rows.Scan(&pk, &text)
			v = []byte(text)
		}
		if err != nil {
			return s.Wrap("read "+c.table, err)
		}
		if err := fn(pk, v); err != nil {
			return err
		}
	}
	return s.Wrap("read "+c.table, rows.Err())
}

// sealAtOpen brings every stored secret under the store's master key (or
// to plaintext without one), in one transaction, when some are not: the
// plaintext ones of a store given a key for the first time, the ones a
// previous key sealed. A secret sealed with a key the store was not given
// refuses the open with the ID of that key. Engines call it after their
// migrations; it reads first and writes only when there is work, so that
// instances starting together on one database do not all write.
func (s *Store) sealAtOpen(ctx context.Context) (int, error) {
	counts, err := s.Census(ctx)
	if err != nil {
		return 0, err
	}
	work := 0
	for id, n := range counts {
		switch {
		case id == s.key.ID():
		case id == "" || s.prev[id] != nil:
			work += n
		default:
			return 0, &seal.NeedKeyError{Need: id, Have: s.key.ID()}
		}
	}
	if work == 0 {
		return 0, nil
	}
	var n int
	err = s.up.Update(ctx, func(t fedid.Tx) error {
		n = 0 // the transaction may run again
		q := AsTx(t).q
		for _, c := range s.s.secrets {
			type change struct {
				pk string
				v  []byte
			}
			var changes []change
			// Collected before writing: SQLite's transaction has one
			// connection, busy with the open result set.
			err := eachSecret(ctx, s.s, q, c, func(pk string, v []byte) error {
				id := seal.KeyID(v)
				if id == s.key.ID() {
					return nil
				}
				from := s.prev[id]
				if id != "" && from == nil {
					return &seal.NeedKeyError{Need: id, Have: s.key.ID()}
				}
				ad := rowID(c.table, pk)
				plain, err := from.Open(v, ad)
				if err != nil {
					return err
				}
				changes = append(changes, change{pk, s.key.Seal(plain, ad)})
				return nil
			})
			if err != nil {
				return err
			}
			for _, ch := range changes {
				var v any = ch.v
				if !c.bytea {
					v = string(ch.v)
				}
				if _, err := q.Exec(ctx, c.set, v, ch.pk); err != nil {
					return s.s.Wrap("seal "+c.table, err)
				}
			}
			n += len(changes)
		}
		return nil
	})
	if err != nil {
		return 0, s.s.errorf("seal secrets: %w", err)
	}
	if s.key == nil {
		s.log.Warn("secrets of the store unsealed: they are now stored in plaintext", "count", n)
	} else {
		s.log.Info("secrets of the store sealed with the master key", "count", n, "master_key", s.key.ID())
	}
	return n, nil
}

// openString and openBytes open a secret read from the row (table, pk).
func (r Reader) openString(v, table, pk string) (string, error) {
	plain, err := r.key.OpenString(v, rowID(table, pk))
	if err != nil {
		return "", r.s.errorf("%w", err)
	}
	return plain, nil
}

func (r Reader) openBytes(v []byte, table, pk string) ([]byte, error) {
	plain, err := r.key.Open(v, rowID(table, pk))
	if err != nil {
		return nil, r.s.errorf("%w", err)
	}
	return plain, nil
}
