package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/fedid/fedid"
)

type samlProvidersCmd struct {
	Add    samlProvidersAddCmd    `cmd:"" help:"Register a SAML provider: --name NAME --metadata FILE [--account ID]."`
	List   samlProvidersListCmd   `cmd:"" help:"List the SAML providers of an account."`
	Remove samlProvidersRemoveCmd `cmd:"" help:"Remove a SAML provider: --arn ARN."`
}

type samlProvidersAddCmd struct {
	AdminFlags  `embed:""`
	AccountFlag `embed:""`
	Name        string `placeholder:"NAME" help:"The provider's name (1-128 of letters, digits, _ . -); its ARN is arn:aws:iam::<account>:saml-provider/NAME."`
	Metadata    string `predictor:"file" placeholder:"FILE" help:"The IdP's SAML metadata document (entityID and signing certificates)."`
}

func (c *samlProvidersAddCmd) Run(e *runEnv) error {
	if c.Name == "" || c.Metadata == "" {
		return errors.New("saml-providers add: --name and --metadata are required")
	}
	if len(c.Account) != 12 || strings.Trim(c.Account, "0123456789") != "" {
		return fmt.Errorf("saml-providers add: account ID %q must be 12 digits", c.Account)
	}
	doc, err := os.ReadFile(c.Metadata)
	if err != nil {
		return fmt.Errorf("saml-providers add: %w", err)
	}
	p, err := fedid.NewSAMLProvider(c.Account, c.Name, string(doc), time.Now())
	if err != nil {
		return fmt.Errorf("saml-providers add: %s", fedid.ErrorMessage(err))
	}
	st, err := c.openExisting(e.ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if old, err := st.GetSAMLProvider(e.ctx, p.ARN); err == nil {
		p.CreatedAt = old.CreatedAt // replaced: the registration date stays
	}
	if err := st.PutSAMLProvider(e.ctx, p); err != nil {
		return fmt.Errorf("saml-providers add: %w", err)
	}
	fmt.Fprintln(e.stdout, p.ARN)
	return nil
}

type samlProvidersListCmd struct {
	AdminFlags  `embed:""`
	AccountFlag `embed:""`
}

func (c *samlProvidersListCmd) Run(e *runEnv) error {
	st, err := c.openExisting(e.ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ps, err := st.ListSAMLProviders(e.ctx, c.Account)
	if err != nil {
		return fmt.Errorf("saml-providers list: %w", err)
	}
	for _, p := range ps {
		entity := "?"
		if md, err := fedid.ParseSAMLMetadata(p.Metadata); err == nil {
			entity = md.EntityID
		}
		fmt.Fprintf(e.stdout, "%s\tentityID=%s\tcreated=%s\n", p.ARN, entity, p.CreatedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

type samlProvidersRemoveCmd struct {
	AdminFlags  `embed:""`
	AccountFlag `embed:""`
	ARN         string `name:"arn" placeholder:"ARN" help:"The provider's ARN (required)."`
}

func (c *samlProvidersRemoveCmd) Run(e *runEnv) error {
	if c.ARN == "" {
		return errors.New("saml-providers remove: --arn is required")
	}
	st, err := c.openExisting(e.ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.DeleteSAMLProvider(e.ctx, c.ARN); err != nil {
		return fmt.Errorf("saml-providers remove: %w", err)
	}
	fmt.Fprintln(e.stdout, "removed", c.ARN)
	return nil
}
