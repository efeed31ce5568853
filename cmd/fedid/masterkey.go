package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/fedid/fedid/internal/app"
	"github.com/fedid/fedid/internal/seal"
	"github.com/fedid/fedid/internal/store/sqlstore"
)

// masterKey reads the key --master-key-file names; nil without one.
func (c *StoreFlags) masterKey() (*seal.Key, error) {
	if c.MasterKeyFile == "" {
		return nil, nil
	}
	return seal.ReadFile(c.MasterKeyFile)
}

type masterKeyCmd struct {
	Generate masterKeyGenerateCmd `cmd:"" help:"Make a master key that seals secrets at rest: fedid master-key generate > FILE."`
	Rotate   masterKeyRotateCmd   `cmd:"" help:"Re-seal the store's secrets with a new master key."`
}

type masterKeyGenerateCmd struct{}

func (masterKeyGenerateCmd) Run(e *runEnv) error {
	// The key goes to stdout only, for a redirection into a file;
	// nothing else is printed.
	k, err := seal.Generate()
	if err != nil {
		return fmt.Errorf("master-key generate: %w", err)
	}
	_, err = io.WriteString(e.stdout, k)
	return err
}

// masterKeyRotate re-seals every secret of the store with the new key
// (and seals the plaintext ones), in the one transaction the store runs
// at open when it is given previous keys.
type masterKeyRotateCmd struct {
	AdminFlags `embed:""`
	Old        string `predictor:"file" placeholder:"FILE" help:"File of the master key the store is sealed with now (default --master-key-file; none for a plaintext store)."`
	New        string `predictor:"file" placeholder:"FILE" help:"File of the master key to seal the store with (required)."`
}

func (c *masterKeyRotateCmd) Run(e *runEnv) error {
	ctx, stdout, stderr := e.ctx, e.stdout, e.stderr
	if c.New == "" {
		return errors.New("master-key rotate: --new is required (make a key with: fedid master-key generate > FILE)")
	}
	if c.Old != "" {
		c.MasterKeyFile = c.Old
	}
	old, err := c.masterKey()
	if err != nil {
		return fmt.Errorf("master-key rotate: --old: %w", err)
	}
	next, err := seal.ReadFile(c.New)
	if err != nil {
		return fmt.Errorf("master-key rotate: --new: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	c.opts = []sqlstore.Option{sqlstore.WithMasterKey(next), sqlstore.WithPreviousKeys(old), sqlstore.WithLogger(log)}
	st, err := c.openExisting(ctx)
	if err != nil {
		return fmt.Errorf("master-key rotate: %w", err)
	}
	defer st.Close()
	counter, ok := st.(interface {
		Census(context.Context) (map[string]int, error)
	})
	if !ok {
		return nil
	}
	counts, err := counter.Census(ctx)
	if err != nil {
		return fmt.Errorf("master-key rotate: %w", err)
	}
	var parts []string
	for id, n := range counts {
		if id == "" {
			id = "plaintext"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", id, n))
	}
	sort.Strings(parts)
	fmt.Fprintf(stdout, "store %s sealed with master key %s (secrets by key: %s)\n",
		app.RedactDB(c.DB), next.ID(), strings.Join(parts, ", "))
	return nil
}
