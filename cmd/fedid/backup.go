package main

import (
	"context"
	"errors"
	"fmt"
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
type backupCmd struct {
	StoreFlags `embed:""`
	Out        string `predictor:"file" placeholder:"FILE" help:"File to write the copy to; must not exist (required)."`
}

func (c *backupCmd) Run(e *runEnv) error {
	ctx := e.ctx
	if strings.Contains(c.DB, "://") {
		return errors.New("backup: " + pgBackupHelp)
	}
	if c.Out == "" {
		return errors.New("backup: --out is required")
	}
	if _, err := os.Lstat(c.Out); err == nil {
		return fmt.Errorf("backup: %s exists; not overwriting it", c.Out)
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
	if err := b.Backup(ctx, c.Out); err != nil {
		return err
	}
	if err := sqlite.IntegrityCheck(ctx, c.Out); err != nil {
		return fmt.Errorf("backup: the copy: %w", err)
	}
	fmt.Fprintf(e.stdout, "backed up %s to %s (integrity check ok)\n", c.DB, c.Out)
	return nil
}

// restoreCmd puts a backup back, refusing while the database is in use.
type restoreCmd struct {
	StoreFlags `embed:""`
	From       string `predictor:"file" placeholder:"FILE" help:"Backup file to restore (required)."`
}

func (c *restoreCmd) Run(e *runEnv) error {
	if strings.Contains(c.DB, "://") {
		return errors.New("restore: " + pgBackupHelp)
	}
	if c.From == "" {
		return errors.New("restore: --from is required")
	}
	if err := sqlite.Restore(e.ctx, c.DB, c.From); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "restored %s from %s (integrity check ok)\n", c.DB, c.From)
	return nil
}
