package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fedid/fedid/internal/store/sqlite"
)

// pgBackupHelp is what backup and restore say for PostgreSQL, whose own
// tools do it better than fedid could (the README gives the same).
const pgBackupHelp = `for PostgreSQL use its own tools:
  pg_dump --format=custom --file=fedid.dump "$FEDID_DB"
  pg_restore --no-owner --dbname="$NEW_DATABASE_URL" fedid.dump
then point fedid serve --db at the restored database`

// backupCmd copies a SQLite database online, while fedid serves it.
func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fedid backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	out := fs.String("out", "", "file to write the copy to; must not exist (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("backup: unexpected argument %q", fs.Arg(0))
	}
	if strings.Contains(c.db, "://") {
		return errors.New("backup: " + pgBackupHelp)
	}
	if *out == "" {
		return errors.New("backup: --out is required")
	}
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("backup: %s exists; not overwriting it", *out)
	}
	st, err := c.openExisting(ctx) // never --create: a backup of nothing is a mistake
	if err != nil {
		return err
	}
	defer st.Close()
	b, ok := st.(interface {
		Backup(context.Context, string) error
	})
	if !ok {
		return errors.New("backup: this store cannot back itself up")
	}
	if err := b.Backup(ctx, *out); err != nil {
		return err
	}
	if err := sqlite.IntegrityCheck(ctx, *out); err != nil {
		return fmt.Errorf("backup: the copy: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s (integrity check ok)\n", c.db, *out)
	return nil
}

// restoreCmd puts a backup back, refusing while the database is in use.
func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fedid restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	from := fs.String("from", "", "backup file to restore (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("restore: unexpected argument %q", fs.Arg(0))
	}
	if strings.Contains(c.db, "://") {
		return errors.New("restore: " + pgBackupHelp)
	}
	if *from == "" {
		return errors.New("restore: --from is required")
	}
	if err := sqlite.Restore(ctx, c.db, *from); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %s (integrity check ok)\n", c.db, *from)
	return nil
}
