package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/app"
)

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func oidcProviders(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: fedid oidc-providers add|list|remove [flags]")
	}
	fs := flag.NewFlagSet("fedid oidc-providers "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.registerAdmin(fs)
	account := fs.String("account", env("FEDID_ACCOUNT_ID", fedid.DefaultAccountID), "12-digit account the provider belongs to")
	var clientIDs, thumbprints multiFlag
	url := fs.String("url", "", "issuer URL, exactly as the provider's tokens carry it in iss (add)")
	fs.Var(&clientIDs, "client-id", "an accepted audience (client ID); repeat for several (add)")
	fs.Var(&thumbprints, "thumbprint", "a server certificate thumbprint, stored as IAM does (add)")
	jwksURL := fs.String("jwks-url", "", "fetch keys from this URL instead of the discovery document's jwks_uri (add)")
	jwksFile := fs.String("jwks-file", "", "pin the provider's keys: a JWKS file, nothing is fetched (add)")
	arn := fs.String("arn", "", "the provider's ARN (remove)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, err := c.openExisting(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "add":
		spec := app.ProviderSpec{Account: *account, URL: *url, ClientIDs: clientIDs, Thumbprints: thumbprints, JWKSURL: *jwksURL, JWKSFile: *jwksFile}
		p, err := spec.Provider(time.Now())
		if err != nil {
			return fmt.Errorf("oidc-providers add: %w", err)
		}
		if err := st.PutOIDCProvider(ctx, p); err != nil {
			return fmt.Errorf("oidc-providers add: %w", err)
		}
		fmt.Fprintln(stdout, p.ARN)
	case "list":
		ps, err := st.ListOIDCProviders(ctx, *account)
		if err != nil {
			return fmt.Errorf("oidc-providers list: %w", err)
		}
		for _, p := range ps {
			keys := "discovery"
			switch {
			case p.JWKS != nil:
				keys = "pinned JWKS"
			case p.JWKSURL != "":
				keys = p.JWKSURL
			}
			fmt.Fprintf(stdout, "%s\t%s\tclients=%s\tkeys=%s\n", p.ARN, p.URL, strings.Join(p.ClientIDs, ","), keys)
		}
	case "remove":
		if *arn == "" {
			return errors.New("oidc-providers remove: --arn is required")
		}
		if err := st.DeleteOIDCProvider(ctx, *arn); err != nil {
			return fmt.Errorf("oidc-providers remove: %w", err)
		}
		fmt.Fprintln(stdout, "removed", *arn)
	default:
		return fmt.Errorf("oidc-providers: unknown action %q (add, list or remove)", args[0])
	}
	return nil
}
