package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// checkDir refuses a database path whose directory does not exist (SQLite
// would only say "unable to open database file").
func checkDir(path string) error {
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return nil
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("sqlite: directory %s does not exist (database %s)", dir, path)
	case err != nil:
		return fmt.Errorf("sqlite: database %s: %w", path, err)
	case !fi.IsDir():
		return fmt.Errorf("sqlite: %s is not a directory (database %s)", dir, path)
	}
	return nil
}

// probeWrite writes a row and rolls it back: SQLite opens a file it may
// not write read-only without a word (taking the write lock works too),
// and only the first write would fail.
func probeWrite(ctx context.Context, w *sql.DB) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_ns) VALUES (-1, 0)`)
	return err
}

// unwritable explains an error of opening, migrating or probing the
// database when it comes from the file or its directory not being
// writable; other errors are returned as they are.
func unwritable(path string, err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH:
	default:
		return err
	}
	dir := filepath.Dir(path)
	_, statErr := os.Stat(path)
	exists := statErr == nil
	if exists {
		if why := cannotWrite(path, false); why != "" {
			return fmt.Errorf("sqlite: cannot write %s: the file %s", path, why)
		}
	}
	if why := cannotWrite(dir, true); why != "" {
		if !exists {
			return fmt.Errorf("sqlite: cannot create %s: the directory %s %s", path, dir, why)
		}
		base := filepath.Base(path)
		return fmt.Errorf("sqlite: cannot write %s: the directory %s %s (SQLite creates %s-wal and %s-shm next to the database)",
			path, dir, why, base, base)
	}
	return fmt.Errorf("sqlite: cannot write %s: %w", path, err)
}

// cannotWrite says why this process may not write a file or create files
// in a directory ("" when it may), by trying: file modes, ownership, root,
// read-only mounts and security modules all count.
func cannotWrite(path string, dir bool) string {
	var err error
	if dir {
		var f *os.File
		if f, err = os.CreateTemp(path, ".fedid-write-check-*"); err == nil {
			f.Close()
			os.Remove(f.Name())
		}
	} else {
		var f *os.File
		if f, err = os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
	}
	switch {
	case err == nil:
		return ""
	case errors.Is(err, syscall.EROFS):
		return "is on a read-only file system"
	case errors.Is(err, fs.ErrPermission):
		return "is read-only"
	default:
		return "cannot be written (" + err.Error() + ")"
	}
}
