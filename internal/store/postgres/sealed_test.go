package postgres

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/postgres/pgtest"
	"github.com/fedid/fedid/internal/store/sqlstore"
	"github.com/fedid/fedid/internal/store/storetest"
)

func TestSealed(t *testing.T) {
	storetest.RunSealed(t, func(t *testing.T) storetest.SealedEngine {
		url := pgtest.Schema(t)
		return storetest.SealedEngine{
			Open: func(t *testing.T, opts ...sqlstore.Option) (fedid.Store, error) {
				s, err := Open(t.Context(), url, opts...)
				if err != nil {
					return nil, err
				}
				t.Cleanup(func() { s.Close() })
				return s, nil
			},
			Dump: func(t *testing.T) []byte { return dumpSchema(t, url) },
		}
	})
}

// dumpSchema returns every value of every column of every table of the
// test's schema (SELECT *), raw bytes for bytea, text for the rest.
func dumpSchema(t *testing.T, url string) []byte {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 5 {
		t.Fatalf("tables %v: %v", tables, err)
	}
	var out []byte
	for _, table := range tables {
		rows, err := conn.Query(ctx, `SELECT * FROM `+pgx.Identifier{table}.Sanitize())
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					out = append(out, b...)
				} else {
					out = fmt.Appendf(out, "%v", v)
				}
				out = append(out, 0)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestConformanceSealed(t *testing.T) {
	k := storetest.MasterKey(t)
	storetest.Run(t, func(t *testing.T) fedid.Store {
		s, err := Open(t.Context(), pgtest.Schema(t), sqlstore.WithMasterKey(k))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
