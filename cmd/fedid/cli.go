package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/posener/complete"
	"github.com/willabides/kongplete"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/keys"
)

// cli is fedid's command line: one field per subcommand, read by kong
// (flags, env tags, defaults, help) from the struct tags.
//
// To add a subcommand: add a field here (`cmd:"" help:"..."`) whose type
// has its flags as tagged fields and a Run(*runEnv) error method. A
// command on the store embeds StoreFlags (--db, --region,
// --master-key-file) or, for an admin command on an existing store,
// AdminFlags (those and --create).
type cli struct {
	Serve         serveCmd         `cmd:"" help:"Run the server."`
	Keys          keysCmd          `cmd:"" help:"Manage access keys."`
	Init          initCmd          `cmd:"" help:"Check a declared state file (serve --init) without a server."`
	Export        exportCmd        `cmd:"" help:"Write the store's pools, keys and providers as a declared state file."`
	Backup        backupCmd        `cmd:"" help:"Copy the SQLite database online, while fedid serves."`
	Restore       restoreCmd       `cmd:"" help:"Put a backup back (fedid stopped)."`
	OIDCProviders oidcProvidersCmd `cmd:"" name:"oidc-providers" help:"Register OpenID Connect providers pools can trust."`
	SAMLProviders samlProvidersCmd `cmd:"" name:"saml-providers" help:"Register SAML providers pools can trust."`
	SigningKeys   signingKeysCmd   `cmd:"" name:"signing-keys" help:"Manage token signing keys."`
	MasterKey     masterKeyCmd     `cmd:"" name:"master-key" help:"Make or rotate the master key that seals secrets at rest."`
	Bench         benchCmd         `cmd:"" help:"Load a Cognito Identity endpoint, report figures."`
	Seed          seedCmd          `cmd:"" help:"Create N developer identities directly in the database."`
	Version       versionCmd       `cmd:"" help:"Print the version."`
	Completion    completionCmd    `cmd:"" help:"Print a shell completion script to source (bash, zsh or fish)."`
}

// runEnv is what every Run method is given: the context of the process
// (cancelled on SIGINT, SIGTERM) and its output.
type runEnv struct {
	ctx            context.Context
	stdout, stderr io.Writer
}

const description = `a self-hosted AWS Cognito Identity (identity pools)

Most flags can also be set through the environment variable shown
after them ($NAME); a flag on the command line wins. An empty variable counts as
unset. FEDID_SIGNER sets the RS512 signer of every command.`

// vars are the values struct tags refer to as ${name}.
var vars = kong.Vars{
	"default_account":  fedid.DefaultAccountID,
	"default_rotation": keys.DefaultRotationPeriod.String(),
}

// exitRequest carries a kong exit (after -h, or a completion) out of the
// parser to run, which turns it into its result instead of leaving the
// process: run is also called by the tests.
type exitRequest struct{ code int }

// newParser builds the command line's parser writing to stdout, stderr.
func newParser(c *cli, stdout, stderr io.Writer) (*kong.Kong, error) {
	return kong.New(c,
		kong.Name("fedid"),
		kong.Description(description),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitRequest{code}) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		kong.TypeMapper(reflect.TypeOf(time.Duration(0)), durationMapper{}),
		vars,
	)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	// The signer of every subcommand (serve's --signer overrides it). It
	// is set before parsing: fedid version reports it, and bench has a
	// --signer flag of its own (its calibration's).
	if err := keys.UseSigner(os.Getenv("FEDID_SIGNER")); err != nil {
		return fmt.Errorf("FEDID_SIGNER: %w", err)
	}
	var c cli
	parser, err := newParser(&c, stdout, stderr)
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			if err = nil; e.code != 0 {
				err = fmt.Errorf("exit status %d", e.code)
			}
		}
	}()
	// The binary is its own completer: with COMP_LINE set (by the scripts
	// of fedid completion) it prints the completions and exits here.
	kongplete.Complete(parser,
		kongplete.WithPredictor("file", complete.PredictFiles("*")),
		kongplete.WithExitFunc(func(code int) { panic(exitRequest{code}) }))

	if len(args) == 0 {
		parser.Stdout = stderr
		printUsage(parser)
		return errors.New("no command given")
	}
	dropEmptyEnv(parser.Model.Node)
	kctx, err := parser.Parse(normalizeArgs(parser.Model.Node, args))
	if err != nil {
		return envError(err)
	}
	return kctx.Run(&runEnv{ctx: ctx, stdout: stdout, stderr: stderr})
}

// printUsage prints the root's help.
func printUsage(parser *kong.Kong) {
	if kctx, err := kong.Trace(parser, nil); err == nil {
		_ = kctx.PrintUsage(false)
	}
}

// normalizeArgs keeps the spellings the standard flag package accepted,
// which scripts may use: -flag and -flag=value for a long flag (kong
// reads a single dash as short flags), and help, -help, --version and
// -version as the first argument. Only names of fedid's own flags are
// rewritten, and nothing after "--".
func normalizeArgs(root *kong.Node, args []string) []string {
	long := map[string]bool{}
	_ = kong.Visit(root, func(n kong.Visitable, next kong.Next) error {
		if f, ok := n.(*kong.Flag); ok && len(f.Name) > 1 {
			long[f.Name] = true
		}
		return next(nil)
	})
	out := make([]string, 0, len(args))
	switch args[0] {
	case "help", "-help":
		// fedid help [COMMAND...] is fedid [COMMAND...] --help.
		return append(append(out, args[1:]...), "--help")
	case "--version", "-version":
		return append(out, "version")
	}
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if name, _, _ := strings.Cut(a, "="); len(name) > 2 && name[0] == '-' && name[1] != '-' && long[name[1:]] {
			a = "-" + a
		}
		out = append(out, a)
	}
	return out
}

// dropEmptyEnv unsets the empty ones among the environment variables the
// command line reads: an empty variable has always meant "unset, use the
// default" to fedid, where kong would take it as an empty value.
func dropEmptyEnv(root *kong.Node) {
	_ = kong.Visit(root, func(n kong.Visitable, next kong.Next) error {
		if f, ok := n.(*kong.Flag); ok {
			for _, name := range f.Envs {
				if v, set := os.LookupEnv(name); set && v == "" {
					os.Unsetenv(name)
				}
			}
		}
		return next(nil)
	})
}

// kongEnvError is how kong words a bad value from the environment.
var kongEnvError = regexp.MustCompile(`^--[a-z0-9-]+(?:=[A-Z0-9-]+)?: (.*) \(from envar ([A-Z0-9_]+)=".*"\)$`)

// envError words a bad environment value as fedid always has, naming
// the variable: "FEDID_KEY_ROTATION: time: invalid duration "x"".
func envError(err error) error {
	if m := kongEnvError.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s: %s", m[2], m[1])
	}
	return err
}

// durationMapper reads a time.Duration as the flag package did: Go's
// duration syntax only, with time.ParseDuration's error.
type durationMapper struct{}

func (durationMapper) Decode(ctx *kong.DecodeContext, target reflect.Value) error {
	var s string
	if err := ctx.Scan.PopValueInto("duration", &s); err != nil {
		return err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	target.SetInt(int64(d))
	return nil
}

// onFlag is a switch whose environment variable turns it on with 1 or
// true only, as FEDID_DEV always has (any other value leaves it off).
// --dev alone turns it on.
type onFlag bool

func (f *onFlag) IsBool() bool { return true }

func (f *onFlag) Decode(ctx *kong.DecodeContext) error {
	*f = true
	if ctx.Scan.Peek().Type == kong.FlagValueToken {
		v := fmt.Sprint(ctx.Scan.Pop().Value)
		*f = v == "1" || v == "true"
	}
	return nil
}

type versionCmd struct{}

func (versionCmd) Run(e *runEnv) error {
	fmt.Fprint(e.stdout, versionText())
	return nil
}
