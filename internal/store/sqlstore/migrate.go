package sqlstore

import (
	"context"
	"embed"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations is the schema, one file per version, in PostgreSQL's types;
// each engine's dialect translates it as it does every statement.
//
//go:embed migrations/*.sql
var Migrations embed.FS

// goStepMark splits a migration whose version has a Go step (goSteps):
// the SQL before it runs first, then the step, then the SQL after it, all
// in the version's transaction.
const goStepMark = "\n-- @go\n"

// goSteps are the parts of migrations written in Go, by version.
var goSteps = map[int]func(ctx context.Context, s *SQL, tx Querier) error{
	6: fillIdentityKeys,
}

// Migrate applies the migrations not yet recorded in schema_migrations,
// each with its record in one transaction that inTx runs. q reads and
// creates the record table; the engine makes sure no other instance
// migrates meanwhile (SQLite's single writer, PostgreSQL's advisory lock).
func (s *SQL) Migrate(ctx context.Context, q Querier, inTx func(ctx context.Context, fn func(Querier) error) error) error {
	return s.MigrateTo(ctx, q, inTx, 0)
}

// MigrateTo is Migrate up to version upTo (0: every version), for the
// tests that make a store of an older schema.
func (s *SQL) MigrateTo(ctx context.Context, q Querier, inTx func(ctx context.Context, fn func(Querier) error) error, upTo int) error {
	if _, err := q.Exec(ctx, s.createMigrations); err != nil {
		return s.errorf("migrate: %w", err)
	}
	files, err := fs.Glob(Migrations, "migrations/*.sql")
	if err != nil {
		return s.errorf("migrate: %w", err)
	}
	sort.Strings(files)
	var current int
	if err := q.QueryRow(ctx, s.migrationsAt).Scan(&current); err != nil {
		return s.errorf("migrate: %w", err)
	}
	latest := 0
	for _, f := range files {
		num, _, _ := strings.Cut(strings.TrimPrefix(f, "migrations/"), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return s.errorf("migration file %s has no version number", f)
		}
		latest = max(latest, v)
		if v <= current || (upTo > 0 && v > upTo) {
			continue
		}
		body, err := Migrations.ReadFile(f)
		if err != nil {
			return s.errorf("migrate: %w", err)
		}
		err = inTx(ctx, func(tx Querier) error {
			before, after, split := strings.Cut(string(body), goStepMark)
			if split != (goSteps[v] != nil) {
				return s.errorf("migration %s: a Go step needs its mark, and a mark its Go step", f)
			}
			if _, err := tx.Exec(ctx, s.translate(before)); err != nil {
				return err
			}
			if step := goSteps[v]; step != nil {
				if err := step(ctx, s, tx); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, s.translate(after)); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, s.recordMigration, v, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return s.errorf("migrate %s: %w", f, err)
		}
	}
	if current > latest {
		return s.errorf("database schema version %d is newer than this fedid knows (%d); upgrade fedid", current, latest)
	}
	return nil
}
