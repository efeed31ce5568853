package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/app"
)

type keysCmd struct {
	Create keysCreateCmd `cmd:"" help:"Create and store an access key, print it."`
	List   keysListCmd   `cmd:"" help:"List access keys (no secrets), newest first."`
	Delete keysDeleteCmd `cmd:"" help:"Delete an access key."`
}

type keysCreateCmd struct {
	AdminFlags `embed:""`
	Account    string `placeholder:"ID" help:"12-digit account ID the key belongs to (required)."`
}

func (c *keysCreateCmd) Run(e *runEnv) error {
	ctx := e.ctx
	if c.Account == "" {
		return errors.New("keys create: --account is required")
	}
	k, err := app.NewAccessKey(c.Account, time.Now())
	if err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	st, err := c.openExisting(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.PutAccessKey(ctx, k); err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	fmt.Fprintf(e.stdout, "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nFEDID_ACCOUNT_ID=%s\n", k.ID, k.Secret, k.Account)
	return nil
}

type keysListCmd struct {
	AdminFlags `embed:""`
}

// Run prints every stored key, newest first, without its secret.
func (c *keysListCmd) Run(e *runEnv) error {
	st, err := c.openExisting(e.ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ks, err := st.ListAccessKeys(e.ctx)
	if err != nil {
		return fmt.Errorf("keys list: %w", err)
	}
	return writeKeys(e.stdout, ks)
}

// writeKeys prints keys in aligned columns. It takes the keys with their
// secrets and prints only ID, account and times: the secret is shown once,
// by keys create.
func writeKeys(w io.Writer, ks []fedid.AccessKey) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCESS KEY ID\tACCOUNT\tCREATED\tLAST USED")
	for _, k := range ks {
		used := "never"
		if !k.LastUsed.IsZero() {
			used = k.LastUsed.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Account, k.Created.UTC().Format(time.RFC3339), used)
	}
	return tw.Flush()
}

// keysDeleteCmd removes a key. A running fedid keeps accepting it for up
// to auth.CacheTTL (5 s), the life of its cached copy.
type keysDeleteCmd struct {
	AdminFlags `embed:""`
	// ID is optional to kong so that its absence gets fedid's message.
	ID string `arg:"" optional:"" name:"access-key-id" help:"The access key to delete."`
}

func (c *keysDeleteCmd) Run(e *runEnv) error {
	if c.ID == "" {
		return errors.New("usage: fedid keys delete ACCESS_KEY_ID [--db PATH]")
	}
	st, err := c.openExisting(e.ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.DeleteAccessKey(e.ctx, c.ID); err != nil {
		if errors.Is(err, fedid.ErrNotFound) {
			return fmt.Errorf("keys delete: no access key %s in %s (fedid keys list shows the stored ones)", c.ID, c.DB)
		}
		return fmt.Errorf("keys delete: %w", err)
	}
	fmt.Fprintf(e.stdout, "deleted access key %s; a running fedid stops accepting it within 5 s\n", c.ID)
	return nil
}
