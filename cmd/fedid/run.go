package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/app"
	"github.com/fedid/fedid/internal/federation"
	"github.com/fedid/fedid/internal/keys"
	"github.com/fedid/fedid/internal/store/sqlstore"
)

// version and commit are set at build time by scripts/release.sh
// (-ldflags "-X main.version=... -X main.commit=..."); otherwise they come
// from the build information Go records (the module version for go
// install, the VCS revision for a build in a checkout).
var (
	version = ""
	commit  = ""
)

// versionText is what fedid version prints: version, commit, Go version,
// platform and the RS512 signer.
func versionText() string {
	v, c, dirty := version, commit, false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if c == "" {
					c = s.Value
				}
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if c == "" {
		c = "unknown"
	} else if dirty {
		c += " (modified)"
	}
	return fmt.Sprintf("fedid %s\ncommit %s\n%s %s/%s\nsigner %s\n", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH, keys.Backend())
}

const usage = `fedid: a self-hosted AWS Cognito Identity (identity pools)

Usage:
  fedid serve [flags]                 run the server (fedid serve -h for flags)
  fedid keys create --account ID      create and store an access key, print it
  fedid keys list                     list access keys (no secrets), newest first
  fedid keys delete ID                delete an access key
  fedid backup --out FILE             copy the SQLite database online, while fedid serves
  fedid restore --from FILE           put a backup back (fedid stopped)
  fedid oidc-providers add --url URL --client-id ID [--account ID] [--jwks-url URL | --jwks-file F]
  fedid oidc-providers list [--account ID]
  fedid oidc-providers remove --arn ARN
                                      register OpenID Connect providers pools can trust
  fedid signing-keys rotate           publish a new token signing key now
  fedid master-key generate > FILE    make a master key that seals secrets at rest
  fedid master-key rotate --old FILE --new FILE
                                      re-seal the store's secrets with a new master key
  fedid bench [flags]                 load a Cognito Identity endpoint, report figures
  fedid seed --identities N [--pool ID]
                                      create N developer identities directly in the database
  fedid version                       print the version
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// The signer of every subcommand (serve's --signer overrides it).
	if err := keys.UseSigner(os.Getenv("FEDID_SIGNER")); err != nil {
		return fmt.Errorf("FEDID_SIGNER: %w", err)
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "keys":
		return keysCmd(ctx, args[1:], stdout, stderr)
	case "backup":
		return backupCmd(ctx, args[1:], stdout, stderr)
	case "restore":
		return restoreCmd(ctx, args[1:], stdout, stderr)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, stderr)
	case "seed":
		return seedCmd(ctx, args[1:], stdout, stderr)
	case "oidc-providers":
		return oidcProviders(ctx, args[1:], stdout, stderr)
	case "signing-keys":
		if len(args) < 2 || args[1] != "rotate" {
			return errors.New("usage: fedid signing-keys rotate [--db PATH] [--region REGION]")
		}
		return signingKeysRotate(ctx, args[2:], stdout, stderr)
	case "master-key":
		return masterKeyCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprint(stdout, versionText())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// env returns the environment variable or a default.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := env(name, "")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// checkAddr refuses a listen address that is not host:port, saying what
// to write (a port alone is the usual slip).
func checkAddr(addr string) error {
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		hint := "127.0.0.1:9600"
		if _, err := strconv.Atoi(addr); err == nil {
			hint = "127.0.0.1:" + addr
		}
		return fmt.Errorf("serve: --addr %q: use host:port, e.g. %s (0.0.0.0:PORT listens on every interface)", addr, hint)
	}
	return nil
}

// checkIssuer refuses an --issuer that is not an absolute http(s) URL:
// verifiers compare it with the tokens' iss and fetch the JWKS under it.
func checkIssuer(issuer string) error {
	if issuer == "" {
		return nil
	}
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("serve: --issuer %q must be an absolute http(s) URL without query or fragment, e.g. https://fedid.example.com", issuer)
	}
	return nil
}

// commonFlags are the store flags every subcommand shares.
type commonFlags struct {
	db     string
	region string
	create bool
	// masterKeyFile names the master key of the store's secrets; opts,
	// when set, replace the options it gives openExisting.
	masterKeyFile string
	opts          []sqlstore.Option
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", env("FEDID_DB", "fedid.db"), "SQLite file, or a postgres:// URL (env FEDID_DB)")
	fs.StringVar(&c.region, "region", env("FEDID_REGION", "us-east-1"), "region of the deployment (env FEDID_REGION)")
	fs.StringVar(&c.masterKeyFile, "master-key-file", env("FEDID_MASTER_KEY_FILE", ""),
		"file of the master key (32 bytes, base64) that seals the store's secrets at rest (env FEDID_MASTER_KEY_FILE)")
}

// registerAdmin adds the flags of the admin subcommands, which work on an
// existing store.
func (c *commonFlags) registerAdmin(fs *flag.FlagSet) {
	c.register(fs)
	fs.BoolVar(&c.create, "create", false, "create the SQLite database if it does not exist")
}

// openExisting opens the store of an admin subcommand. A SQLite file that
// does not exist is refused unless --create: run from the wrong folder, an
// admin command would otherwise make a new empty store there and seem to
// work (list nothing, rotate a key nobody serves).
func (c *commonFlags) openExisting(ctx context.Context) (fedid.Store, error) {
	if !c.create && !strings.Contains(c.db, "://") {
		if _, err := os.Stat(c.db); errors.Is(err, fs.ErrNotExist) {
			abs, _ := filepath.Abs(c.db)
			return nil, fmt.Errorf("no database at %s: point --db (or FEDID_DB) at the database fedid serves, or add --create to make a new one there", abs)
		}
	}
	opts := c.opts
	if opts == nil {
		k, err := c.masterKey()
		if err != nil {
			return nil, err
		}
		opts = []sqlstore.Option{sqlstore.WithMasterKey(k)}
	}
	return app.OpenStore(ctx, c.db, opts...)
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("fedid serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	addr := fs.String("addr", env("FEDID_ADDR", "127.0.0.1:9600"), "listen address (env FEDID_ADDR)")
	dev := fs.Bool("dev", env("FEDID_DEV", "") == "1" || env("FEDID_DEV", "") == "true", "development mode: accept test/test on any address, with a loud warning (env FEDID_DEV=1); never in production")
	issuer := fs.String("issuer", env("FEDID_ISSUER", ""), "token issuer URL (env FEDID_ISSUER; default http://<addr>, https://<addr> with TLS)")
	tlsCert := fs.String("tls-cert", env("FEDID_TLS_CERT", ""), "PEM certificate chain: serve HTTPS, reloaded on SIGHUP or change (env FEDID_TLS_CERT; with --tls-key)")
	tlsKey := fs.String("tls-key", env("FEDID_TLS_KEY", ""), "PEM private key of --tls-cert (env FEDID_TLS_KEY)")
	ttlDef, err := envDuration("FEDID_OPENID_TOKEN_TTL", 600*time.Second)
	if err != nil {
		return err
	}
	rotDef, err := envDuration("FEDID_KEY_ROTATION", keys.DefaultRotationPeriod)
	if err != nil {
		return err
	}
	ttl := fs.Duration("openid-token-ttl", ttlDef, "lifetime of GetOpenIdToken tokens (env FEDID_OPENID_TOKEN_TTL)")
	rotation := fs.Duration("key-rotation", rotDef, "signing key rotation period (env FEDID_KEY_ROTATION)")
	cognitoIdP := fs.String("cognito-idp-endpoint", env("FEDID_COGNITO_IDP_ENDPOINT", ""),
		"base URL of the Cognito user pool service whose tokens are checked; a user pool's issuer is <url>/<pool id> (env FEDID_COGNITO_IDP_ENDPOINT; default the real service)")
	social := fs.String("social-issuers", env("FEDID_SOCIAL_ISSUERS", ""),
		"comma-separated provider=issuer pairs overriding the issuers of social providers, e.g. accounts.google.com=http://127.0.0.1:8080 (env FEDID_SOCIAL_ISSUERS)")
	providersFile := fs.String("oidc-providers-file", env("FEDID_OIDC_PROVIDERS_FILE", ""),
		"JSON file of OIDC providers to register at start: [{\"account\",\"url\",\"clientIds\",\"jwksUrl\",\"jwksFile\"}] (env FEDID_OIDC_PROVIDERS_FILE)")
	creds := fs.String("credentials", env("FEDID_CREDENTIALS", "local"),
		"GetCredentialsForIdentity mode: local (fedid issues and accepts the credentials) or sts (env FEDID_CREDENTIALS)")
	stsEndpoint := fs.String("sts-endpoint", env("FEDID_STS_ENDPOINT", ""), "STS endpoint for --credentials sts (env FEDID_STS_ENDPOINT)")
	credTTLDef, err := envDuration("FEDID_CREDENTIALS_TTL", time.Hour)
	if err != nil {
		return err
	}
	credTTL := fs.Duration("credentials-ttl", credTTLDef, "lifetime of issued credentials (env FEDID_CREDENTIALS_TTL)")
	debugAddr := fs.String("debug-addr", env("FEDID_DEBUG_ADDR", ""), "serve net/http/pprof on this address (env FEDID_DEBUG_ADDR)")
	throttle := fs.String("throttle", env("FEDID_THROTTLE", "off"), "off, or aws for the service's documented per-account rates (env FEDID_THROTTLE)")
	provTimeoutDef, err := envDuration("FEDID_PROVIDER_TIMEOUT", 5*time.Second)
	if err != nil {
		return err
	}
	providerTimeout := fs.Duration("provider-timeout", provTimeoutDef, "timeout of fetching a provider's discovery document or keys (env FEDID_PROVIDER_TIMEOUT)")
	logLevel := fs.String("log-level", env("FEDID_LOG_LEVEL", "info"), "debug, info, warn or error (env FEDID_LOG_LEVEL)")
	logFormat := fs.String("log-format", env("FEDID_LOG_FORMAT", "text"), "text or json (env FEDID_LOG_FORMAT)")
	signer := fs.String("signer", env("FEDID_SIGNER", "openssl"), "RS512 signer: openssl (libcrypto, crypto/rsa when it cannot be loaded) or go (crypto/rsa) (env FEDID_SIGNER)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := keys.UseSigner(*signer); err != nil {
		return fmt.Errorf("serve: --signer: %w", err)
	}
	masterKey, err := c.masterKey()
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if err := checkAddr(*addr); err != nil {
		return err
	}
	if err := checkIssuer(*issuer); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("serve: --log-level: %w", err)
	}
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return fmt.Errorf("serve: --log-format must be text or json, not %q", *logFormat)
	}
	log := slog.New(handler)
	if os.Getenv("GOGC") == "" {
		// fedid's heap is small and short-lived per request: collecting
		// less often saves a few percent of CPU per token (BENCHMARKS.md).
		debug.SetGCPercent(400)
	}
	socialIssuers := map[string]string{}
	for _, pair := range strings.Split(*social, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		name, iss, ok := strings.Cut(pair, "=")
		if !ok || name == "" || iss == "" {
			return fmt.Errorf("serve: --social-issuers: %q is not provider=issuer", pair)
		}
		socialIssuers[name] = iss
	}
	var reload <-chan struct{}
	if *tlsCert != "" || *tlsKey != "" || *providersFile != "" {
		reload = reloadOnSIGHUP(ctx)
	}
	return app.Serve(ctx, app.Config{
		Addr:            *addr,
		Dev:             *dev,
		DB:              c.db,
		Region:          c.region,
		Issuer:          *issuer,
		TLSCert:         *tlsCert,
		TLSKey:          *tlsKey,
		Reload:          reload,
		AccessKeyID:     os.Getenv("FEDID_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("FEDID_SECRET_ACCESS_KEY"),
		AccountID:       env("FEDID_ACCOUNT_ID", fedid.DefaultAccountID),
		OpenIDTokenTTL:  *ttl,
		KeyRotation:     *rotation,
		Federation: federation.Config{
			CognitoIdPEndpoint: *cognitoIdP,
			SocialIssuers:      socialIssuers,
			Timeout:            *providerTimeout,
		},
		ProvidersFile:  *providersFile,
		Credentials:    *creds,
		STSEndpoint:    *stsEndpoint,
		CredentialsTTL: *credTTL,
		Throttle:       *throttle,
		DebugAddr:      *debugAddr,
		MasterKey:      masterKey,
		Logger:         log,
	})
}

func keysCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fedid keys create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.registerAdmin(fs)
	account := fs.String("account", "", "12-digit account ID the key belongs to (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *account == "" {
		return errors.New("keys create: --account is required")
	}
	k, err := app.NewAccessKey(*account, time.Now())
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
	fmt.Fprintf(stdout, "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nFEDID_ACCOUNT_ID=%s\n", k.ID, k.Secret, k.Account)
	return nil
}

func signingKeysRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fedid signing-keys rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.registerAdmin(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := c.openExisting(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	km := keys.NewManager(st, fedid.SystemClock{}, keys.Options{Region: c.region})
	if err := km.Init(ctx); err != nil {
		return fmt.Errorf("signing-keys rotate: %w", err)
	}
	if err := km.Rotate(ctx, true); err != nil {
		return fmt.Errorf("signing-keys rotate: %w", err)
	}
	if p := km.PendingKID(); p != "" {
		fmt.Fprintf(stdout, "new signing key %s published; it signs from %s on (running instances reload keys every minute), until then %s signs\n",
			p, time.Now().Add(km.PublishLead()).UTC().Format(time.RFC3339), km.CurrentKID())
		return nil
	}
	fmt.Fprintf(stdout, "current signing key: %s\n", km.CurrentKID())
	return nil
}
