package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fedid/fedid/internal/app"
)

type oidcProvidersCmd struct {
	Add    oidcProvidersAddCmd    `cmd:"" help:"Register a provider: --url URL --client-id ID [--account ID] [--jwks-url URL | --jwks-file F]."`
	List   oidcProvidersListCmd   `cmd:"" help:"List the providers of an account."`
	Remove oidcProvidersRemoveCmd `cmd:"" help:"Remove a provider: --arn ARN."`
}

// AccountFlag is the account of oidc-providers add and list (and, as it
// always was, accepted by remove, which ignores it).
type AccountFlag struct {
	Account string `env:"FEDID_ACCOUNT_ID" default:"${default_account}" help:"12-digit account the provider belongs to."`
}

type oidcProvidersAddCmd struct {
	AdminFlags  `embed:""`
	AccountFlag `embed:""`
	URL         string   `name:"url" placeholder:"URL" help:"Issuer URL, exactly as the provider's tokens carry it in iss."`
	ClientID    []string `name:"client-id" sep:"none" placeholder:"ID" help:"An accepted audience (client ID); repeat for several."`
	Thumbprint  []string `sep:"none" help:"A server certificate thumbprint, stored as IAM does; repeat for several."`
	JWKSURL     string   `name:"jwks-url" placeholder:"URL" help:"Fetch keys from this URL instead of the discovery document's jwks_uri."`
	JWKSFile    string   `name:"jwks-file" predictor:"file" placeholder:"FILE" help:"Pin the provider's keys: a JWKS file, nothing is fetched."`
}

func (c *oidcProvidersAddCmd) Run(e *runEnv) error {
	st, err := c.openExisting(e.ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	spec := app.ProviderSpec{Account: c.Account, URL: c.URL, ClientIDs: c.ClientID, Thumbprints: c.Thumbprint, JWKSURL: c.JWKSURL, JWKSFile: c.JWKSFile}
	p, err := spec.Provider(time.Now())
	if err != nil {
		return fmt.Errorf("oidc-providers add: %w", err)
	}
	if err := st.PutOIDCProvider(e.ctx, p); err != nil {
		return fmt.Errorf("oidc-providers add: %w", err)
	}
	fmt.Fprintln(e.stdout, p.ARN)
	return nil
}

type oidcProvidersListCmd struct {
	AdminFlags  `embed:""`
	AccountFlag `embed:""`
}

func (c *oidcProvidersListCmd) Run(e *runEnv) error {
	st, err := c.openExisting(e.ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ps, err := st.ListOIDCProviders(e.ctx, c.Account)
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
		fmt.Fprintf(e.stdout, "%s\t%s\tclients=%s\tkeys=%s\n", p.ARN, p.URL, strings.Join(p.ClientIDs, ","), keys)
	}
	return nil
}

type oidcProvidersRemoveCmd struct {
	AdminFlags  `embed:""`
	AccountFlag `embed:""`
	ARN         string `name:"arn" placeholder:"ARN" help:"The provider's ARN (required)."`
}

func (c *oidcProvidersRemoveCmd) Run(e *runEnv) error {
	st, err := c.openExisting(e.ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if c.ARN == "" {
		return errors.New("oidc-providers remove: --arn is required")
	}
	if err := st.DeleteOIDCProvider(e.ctx, c.ARN); err != nil {
		return fmt.Errorf("oidc-providers remove: %w", err)
	}
	fmt.Fprintln(e.stdout, "removed", c.ARN)
	return nil
}
