package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
)

// Backup writes a consistent copy of the database to out, online: VACUUM
// INTO reads one snapshot (WAL readers never wait for the writer, nor it
// for them), so every transaction committed before it began is in the
// copy and none that commits during it is half there. It runs on the
// store's writer connection so that, inside a serving process, it queues
// behind that process's writes rather than racing them for the lock.
//
// The copy is written beside out and linked into place, so out never holds
// a partial copy and an existing out is never overwritten, even by a
// backup racing this one.
func (s *Store) Backup(ctx context.Context, out string) error {
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("backup: %s exists; not overwriting it", out)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)
	// VACUUM INTO refuses a non-empty file but accepts an empty one.
	if _, err := s.w.ExecContext(ctx, `VACUUM INTO ?`, tmpName); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := syncFile(tmpName); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Link(tmpName, out); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("backup: %s exists; not overwriting it", out)
		}
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// IntegrityCheck runs PRAGMA integrity_check on a database file, read-only,
// and checks it is a fedid database (it has the migrations table).
func IntegrityCheck(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("%s: integrity check: %w", path, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return fmt.Errorf("%s: integrity check: %w", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: integrity check: %w", path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s fails the integrity check: %s", path, strings.Join(problems, "; "))
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil || n == 0 {
		return fmt.Errorf("%s is not a fedid database (no schema_migrations table)", path)
	}
	return nil
}

// ErrInUse is returned by Restore when another connection (a running
// fedid, an admin command) has the database open.
var ErrInUse = errors.New("the database is in use")

// Restore replaces the database at path with the copy at from, after
// checking the copy's integrity. It refuses while anyone else has the
// database open: it takes SQLite's exclusive lock first, without waiting,
// which a serving fedid (whose connections stay open) prevents, and holds
// it through the copy, so nobody opens the database half restored. The
// copy goes through SQLite's backup API on that connection, so the WAL and
// shared-memory files stay consistent with the new content.
func Restore(ctx context.Context, path, from string) error {
	if err := IntegrityCheck(ctx, from); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := checkDir(path); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)&_pragma=locking_mode(EXCLUSIVE)")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer db.Close()
	c, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer c.Close()
	// In exclusive locking mode the lock taken here outlives the
	// transaction: it is held until the connection closes.
	if _, err := c.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
		if isBusy(err) {
			return fmt.Errorf("restore: %s: %w: stop fedid (and any other process using it) first", path, ErrInUse)
		}
		return fmt.Errorf("restore: %w", err)
	}
	if _, err := c.ExecContext(ctx, `COMMIT`); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return c.Raw(func(dc any) error {
		r, ok := dc.(interface {
			NewRestore(string) (*sqlite.Backup, error)
		})
		if !ok {
			return errors.New("restore: the SQLite driver has no backup API")
		}
		b, err := r.NewRestore("file:" + from + "?mode=ro")
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		_, err = b.Step(-1)
		return errors.Join(err, b.Finish())
	})
}
