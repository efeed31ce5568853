package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/fedid/fedid/internal/identity"
	"github.com/fedid/fedid/internal/initfile"
)

// initCmd is `fedid init --check FILE`: the declared state file validated
// without a server (applied to a scratch store that is then thrown away).
type initCmd struct {
	Check  string `predictor:"file" placeholder:"FILE" help:"Validate a declared state file (as serve --init reads it) without a server."`
	Region string `env:"FEDID_REGION" default:"us-east-1" help:"Region of pools that name none (as serve's --region)."`
}

func (c *initCmd) Run(e *runEnv) error {
	if c.Check == "" {
		return errors.New("fedid init: give --check FILE (fedid serve --init FILE applies it)")
	}
	f, err := initfile.Load(c.Check, c.Region)
	if err != nil {
		return err
	}
	if _, err := initfile.Check(e.ctx, f); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: ok: %d access keys, %d OIDC providers, %d identity pools\n",
		c.Check, len(f.AccessKeys), len(f.Providers), len(f.Pools))
	return nil
}

// exportCmd is `fedid export`: the store's state as a declared state file.
type exportCmd struct {
	AdminFlags `embed:""`
	Out        string `short:"o" predictor:"file" placeholder:"FILE" help:"Write to FILE (mode 0600: it holds access key secrets) instead of standard output."`
}

func (c *exportCmd) Run(e *runEnv) error {
	st, err := c.openExisting(e.ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	b, err := initfile.Export(e.ctx, st, identity.New(identity.Deps{Store: st}, identity.Config{}))
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if c.Out == "" {
		_, err = e.stdout.Write(b)
		return err
	}
	return os.WriteFile(c.Out, b, 0o600)
}
