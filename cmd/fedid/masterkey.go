package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/fedid/fedid/internal/app"
	"github.com/fedid/fedid/internal/seal"
	"github.com/fedid/fedid/internal/store/sqlstore"
)

const masterKeyUsage = "usage: fedid master-key generate > FILE | fedid master-key rotate --db DB --old FILE --new FILE"

// masterKey reads the key --master-key-file names; nil without one.
func (c *commonFlags) masterKey() (*seal.Key, error) {
	if c.masterKeyFile == "" {
		return nil, nil
	}
	return seal.ReadFile(c.masterKeyFile)
}

func masterKeyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(masterKeyUsage)
	}
	switch args[0] {
	case "generate":
		if len(args) > 1 {
			return errors.New(masterKeyUsage)
		}
		// The key goes to stdout only, for a redirection into a file;
		// nothing else is printed.
		k, err := seal.Generate()
		if err != nil {
			return fmt.Errorf("master-key generate: %w", err)
		}
		_, err = io.WriteString(stdout, k)
		return err
	case "rotate":
		return masterKeyRotate(ctx, args[1:], stdout, stderr)
	default:
		return errors.New(masterKeyUsage)
	}
}

// masterKeyRotate re-seals every secret of the store with the new key
// (and seals the plaintext ones), in the one transaction the store runs
// at open when it is given previous keys.
func masterKeyRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fedid master-key rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.registerAdmin(fs)
	oldFile := fs.String("old", "", "file of the master key the store is sealed with now (default --master-key-file; none for a plaintext store)")
	newFile := fs.String("new", "", "file of the master key to seal the store with (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("master-key rotate: unexpected argument %q", fs.Arg(0))
	}
	if *newFile == "" {
		return errors.New("master-key rotate: --new is required (make a key with: fedid master-key generate > FILE)")
	}
	if *oldFile != "" {
		c.masterKeyFile = *oldFile
	}
	old, err := c.masterKey()
	if err != nil {
		return fmt.Errorf("master-key rotate: --old: %w", err)
	}
	next, err := seal.ReadFile(*newFile)
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
		app.RedactDB(c.db), next.ID(), strings.Join(parts, ", "))
	return nil
}
