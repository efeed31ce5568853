package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/fedid/fedid"
)

const keysUsage = "usage: fedid keys create --account ID | keys list | keys delete ID  [--db PATH]"

// keysCmd dispatches the access-key subcommands.
func keysCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(keysUsage)
	}
	switch args[0] {
	case "create":
		return keysCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return keysList(ctx, args[1:], stdout, stderr)
	case "delete":
		return keysDelete(ctx, args[1:], stdout, stderr)
	default:
		return fmt.Errorf("keys: unknown action %q; %s", args[0], keysUsage)
	}
}

// keysList prints every stored key, newest first, without its secret.
func keysList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fedid keys list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.registerAdmin(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keys list: unexpected argument %q", fs.Arg(0))
	}
	st, err := c.openExisting(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ks, err := st.ListAccessKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys list: %w", err)
	}
	return writeKeys(stdout, ks)
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

// keysDelete removes a key. A running fedid keeps accepting it for up to
// auth.CacheTTL (5 s), the life of its cached copy.
func keysDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fedid keys delete", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.registerAdmin(fs)
	// The ID may come before or after the flags.
	var id string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("keys delete: unexpected argument %q", fs.Arg(0))
	}
	if id == "" || fs.NArg() > 1 {
		return errors.New("usage: fedid keys delete ACCESS_KEY_ID [--db PATH]")
	}
	st, err := c.openExisting(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.DeleteAccessKey(ctx, id); err != nil {
		if errors.Is(err, fedid.ErrNotFound) {
			return fmt.Errorf("keys delete: no access key %s in %s (fedid keys list shows the stored ones)", id, c.db)
		}
		return fmt.Errorf("keys delete: %w", err)
	}
	fmt.Fprintf(stdout, "deleted access key %s; a running fedid stops accepting it within 5 s\n", id)
	return nil
}
