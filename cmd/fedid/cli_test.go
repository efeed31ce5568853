package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

// commandPaths lists every command of the command line, e.g. "keys create".
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	var c cli
	p, err := newParser(&c, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var paths [][]string
	var walk func(n *kong.Node, path []string)
	walk = func(n *kong.Node, path []string) {
		for _, ch := range n.Children {
			p := append(append([]string(nil), path...), ch.Name)
			paths = append(paths, p)
			walk(ch, p)
		}
	}
	walk(p.Model.Node, nil)
	return paths
}

// TestHelp: -h and --help on the root and on every command print the
// usage to stdout and are no error to main (exit 0).
func TestHelp(t *testing.T) {
	for _, path := range append([][]string{nil}, commandPaths(t)...) {
		for _, h := range []string{"-h", "--help"} {
			var out, errb bytes.Buffer
			args := append(append([]string(nil), path...), h)
			if err := run(context.Background(), args, &out, &errb); err != nil {
				t.Fatalf("%v: %v", args, err)
			}
			want := "Usage: fedid " + strings.Join(path, " ")
			if !strings.HasPrefix(out.String(), want) {
				t.Fatalf("%v printed %q, want %q first", args, out.String(), want)
			}
		}
	}
	// fedid help COMMAND, as fedid help always worked.
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"help", "serve"}, &out, &errb); err != nil || !strings.Contains(out.String(), "--tls-cert") {
		t.Fatalf("help serve: %v %q", err, out.String())
	}
	for _, name := range []string{"serve", "keys", "backup", "restore", "oidc-providers", "saml-providers", "signing-keys", "master-key", "bench", "seed", "version", "completion"} {
		if !strings.Contains(usageOf(t), "\n  "+name+" ") {
			t.Errorf("the root usage does not list %s", name)
		}
	}
}

func usageOf(t *testing.T) string {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestFlagMistakes: an unknown flag or a bad value is an error naming
// the flag (or the environment variable), before anything runs.
func TestFlagMistakes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for args, want := range map[string]string{
		"serve --bogus":                    "unknown flag --bogus",
		"serve --openid-token-ttl 5":       `--openid-token-ttl: time: missing unit in duration "5"`,
		"serve --key-rotation soon":        `--key-rotation: time: invalid duration "soon"`,
		"bench -c many":                    "--c: ",
		"seed --identities lots":           "--identities: ",
		"keys list --account 1":            "unknown flag --account",
		"completion tcsh":                  `"tcsh"`,
		"frobnicate":                       "unexpected argument frobnicate",
		"serve extra":                      "unexpected argument extra",
		"serve --log-format yaml":          `serve: --log-format must be text or json, not "yaml"`,
		"serve --log-level loud":           "serve: --log-level: ",
		"serve --social-issuers google":    `serve: --social-issuers: "google" is not provider=issuer`,
		"keys create --db " + db:           "keys create: --account is required",
		"master-key rotate --db " + db:     "master-key rotate: --new is required",
		"backup --db " + db:                "backup: --out is required",
		"restore --db " + db:               "restore: --from is required",
		"seed --identities 0 --db " + db:   "seed: --identities and --batch must be positive",
		"keys delete --db " + db:           "usage: fedid keys delete ACCESS_KEY_ID",
		"master-key generate extra":        "unexpected argument extra",
		"signing-keys":                     `expected "rotate"`,
		"bench --mix known --raw 0":        `bench: --mix: "known" is not op=weight`,
		"serve --dev=1 --addr 9705":        "use host:port, e.g. 127.0.0.1:9705",
		"serve -addr=localhost":            "use host:port",
		"serve -issuer ftp://x --db " + db: "must be an absolute http(s) URL",
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), strings.Fields(args), &out, &errb)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", args, err, want)
		}
	}
	for env, want := range map[string]string{
		"FEDID_OPENID_TOKEN_TTL": `FEDID_OPENID_TOKEN_TTL: time: invalid duration "x"`,
		"FEDID_KEY_ROTATION":     `FEDID_KEY_ROTATION: time: invalid duration "x"`,
		"FEDID_CREDENTIALS_TTL":  `FEDID_CREDENTIALS_TTL: time: invalid duration "x"`,
		"FEDID_PROVIDER_TIMEOUT": `FEDID_PROVIDER_TIMEOUT: time: invalid duration "x"`,
	} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "x")
			var out, errb bytes.Buffer
			err := run(context.Background(), []string{"serve", "--db", db}, &out, &errb)
			if err == nil || err.Error() != want {
				t.Errorf("got %v, want %q", err, want)
			}
			// Only serve reads it.
			if err := run(context.Background(), []string{"master-key", "generate"}, &out, &errb); err != nil {
				t.Errorf("master-key generate with %s=x: %v", env, err)
			}
		})
	}
	t.Setenv("FEDID_SIGNER", "nope")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &errb); err == nil || !strings.HasPrefix(err.Error(), "FEDID_SIGNER: ") {
		t.Errorf("FEDID_SIGNER=nope: %v", err)
	}
}

// parse parses args as run does, without running the command.
func parse(t *testing.T, args ...string) (*cli, string) {
	t.Helper()
	var c cli
	p, err := newParser(&c, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dropEmptyEnv(p.Model.Node)
	kctx, err := p.Parse(normalizeArgs(p.Model.Node, args))
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return &c, kctx.Command()
}

// TestFlagsAndEnvironment: defaults, environment variables, flags over
// environment, and the spellings the flag package accepted.
func TestFlagsAndEnvironment(t *testing.T) {
	c, cmd := parse(t, "serve")
	s := c.Serve
	if cmd != "serve" || s.DB != "fedid.db" || s.Region != "us-east-1" || s.Addr != "127.0.0.1:9600" || s.Dev ||
		s.OpenIDTokenTTL != 600*time.Second || s.CredentialsTTL != time.Hour || s.ProviderTimeout != 5*time.Second ||
		s.Credentials != "local" || s.Throttle != "off" || s.LogLevel != "info" || s.LogFormat != "text" || s.Signer != "openssl" || s.Init != "" {
		t.Fatalf("serve defaults: %+v", s)
	}
	for env, v := range map[string]string{
		"FEDID_DB": "e.db", "FEDID_REGION": "eu-west-1", "FEDID_ADDR": "0.0.0.0:1", "FEDID_DEV": "1", "FEDID_INIT": "state.yaml",
		"FEDID_OPENID_TOKEN_TTL": "1m", "FEDID_KEY_ROTATION": "2h", "FEDID_LOG_FORMAT": "json", "FEDID_MASTER_KEY_FILE": "mk",
		"FEDID_TLS_CERT": "c.pem", "FEDID_TLS_KEY": "k.pem", "FEDID_THROTTLE": "aws", "FEDID_CREDENTIALS": "sts",
	} {
		t.Setenv(env, v)
	}
	t.Setenv("FEDID_ISSUER", "") // empty: unset, as it always was
	c, _ = parse(t, "serve")
	s = c.Serve
	if s.DB != "e.db" || s.Region != "eu-west-1" || s.Addr != "0.0.0.0:1" || !s.Dev || s.Init != "state.yaml" || s.OpenIDTokenTTL != time.Minute ||
		s.KeyRotation != 2*time.Hour || s.LogFormat != "json" || s.MasterKeyFile != "mk" || s.TLSCert != "c.pem" || s.TLSKey != "k.pem" ||
		s.Throttle != "aws" || s.Credentials != "sts" || s.Issuer != "" {
		t.Fatalf("serve from the environment: %+v", s)
	}
	c, _ = parse(t, "serve", "--db", "f.db", "-addr", "127.0.0.1:2", "-init=other.json", "--dev=false", "-openid-token-ttl", "2m")
	s = c.Serve
	if s.DB != "f.db" || s.Addr != "127.0.0.1:2" || s.Init != "other.json" || s.Dev || s.OpenIDTokenTTL != 2*time.Minute {
		t.Fatalf("flags over the environment: %+v", s)
	}
	// FEDID_DEV turns development mode on with 1 or true only.
	for v, want := range map[string]bool{"1": true, "true": true, "0": false, "yes": false, "false": false, "": false} {
		t.Setenv("FEDID_DEV", v)
		if c, _ := parse(t, "serve"); bool(c.Serve.Dev) != want {
			t.Errorf("FEDID_DEV=%q: dev %v", v, c.Serve.Dev)
		}
	}
	if c, _ := parse(t, "serve", "--dev"); !c.Serve.Dev {
		t.Error("--dev is off")
	}

	t.Setenv("AWS_REGION", "ap-south-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AK")
	c, _ = parse(t, "bench", "-c", "3", "--secret", "S", "--raw", "0")
	if b := c.Bench; b.C != 3 || b.Region != "ap-south-1" || b.AccessKey != "AK" || b.Secret != "S" || b.Raw != 0 ||
		b.Endpoint != "http://127.0.0.1:9600" || b.Mix != "known=100" || b.Users != 1000 || b.VerifyEvery != 100 || b.Duration != 10*time.Second {
		t.Fatalf("bench: %+v", b)
	}
	t.Setenv("FEDID_ACCOUNT_ID", "")
	c, _ = parse(t, "oidc-providers", "add", "--client-id", "a,b", "--client-id", "c", "--url", "https://x")
	if a := c.OIDCProviders.Add; a.Account != "000000000000" || len(a.ClientID) != 2 || a.ClientID[0] != "a,b" || a.URL != "https://x" {
		t.Fatalf("oidc-providers add: %+v", a)
	}
	t.Setenv("FEDID_ACCOUNT_ID", "111111111111")
	if c, _ := parse(t, "oidc-providers", "list"); c.OIDCProviders.List.Account != "111111111111" {
		t.Fatalf("oidc-providers list: %+v", c.OIDCProviders.List)
	}
	if c, cmd := parse(t, "keys", "delete", "--db", "k.db", "AKIAX"); cmd != "keys delete <access-key-id>" || c.Keys.Delete.ID != "AKIAX" || c.Keys.Delete.DB != "k.db" {
		t.Fatalf("keys delete: %q %+v", cmd, c.Keys.Delete)
	}
	if c, _ := parse(t, "seed", "--db", "s.db"); c.Seed.Identities != 1000 || c.Seed.Batch != 10000 || c.Seed.Account != "000000000000" || c.Seed.DevProvider != "bench.login" {
		t.Fatalf("seed: %+v", c.Seed)
	}
	var out, errb bytes.Buffer
	for _, v := range []string{"--version", "-version", "version"} {
		out.Reset()
		if err := run(context.Background(), []string{v}, &out, &errb); err != nil || !strings.HasPrefix(out.String(), "fedid ") {
			t.Errorf("%s: %v %q", v, err, out.String())
		}
	}
}

// TestCompletion: the binary answers its own completions (COMP_LINE), and
// fedid completion prints a script per shell that hooks it.
func TestCompletion(t *testing.T) {
	complete := func(line string) []string {
		t.Helper()
		t.Setenv("COMP_LINE", line)
		t.Setenv("COMP_POINT", strconv.Itoa(len(line)))
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"serve", "--addr", "0.0.0.0:1"}, &out, &errb); err != nil {
			t.Fatalf("%q: %v %s", line, err, errb.String())
		}
		return strings.Fields(out.String())
	}
	has := func(got []string, want string) bool {
		for _, g := range got {
			if g == want {
				return true
			}
		}
		return false
	}
	if got := complete("fedid se"); !has(got, "serve") || !has(got, "seed") || has(got, "keys") {
		t.Errorf("fedid se: %q", got)
	}
	if got := complete("fedid serve --ad"); len(got) != 1 || got[0] != "--addr" {
		t.Errorf("fedid serve --ad: %q", got)
	}
	if got := complete("fedid keys "); !has(got, "create") || !has(got, "list") || !has(got, "delete") {
		t.Errorf("fedid keys: %q", got)
	}
	if got := complete("fedid completion "); len(got) != 3 || !has(got, "bash") || !has(got, "zsh") || !has(got, "fish") {
		t.Errorf("fedid completion: %q", got)
	}
	os.Unsetenv("COMP_LINE")
	os.Unsetenv("COMP_POINT")
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for shell, want := range map[string]string{"bash": "complete -C", "zsh": "bashcompinit", "fish": "commandline -cp"} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"completion", shell}, &out, &errb); err != nil {
			t.Fatal(shell, err)
		}
		if !strings.Contains(out.String(), bin) || !strings.Contains(out.String(), want) || !strings.Contains(out.String(), " fedid") {
			t.Errorf("%s script:\n%s", shell, out.String())
		}
	}
}
