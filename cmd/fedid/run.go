package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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

// StoreFlags are the flags of the store, shared by every command that
// opens it (embedded with `embed:""`).
type StoreFlags struct {
	DB            string `name:"db" env:"FEDID_DB" default:"fedid.db" predictor:"file" help:"SQLite file, or a postgres:// URL."`
	Region        string `env:"FEDID_REGION" default:"us-east-1" help:"Region of the deployment."`
	MasterKeyFile string `env:"FEDID_MASTER_KEY_FILE" predictor:"file" placeholder:"FILE" help:"File of the master key (32 bytes, base64) that seals the store's secrets at rest."`

	// opts, when set, replace the options the master key gives
	// openExisting.
	opts []sqlstore.Option
}

// AdminFlags are the flags of the admin subcommands, which work on an
// existing store.
type AdminFlags struct {
	StoreFlags `embed:""`
	Create     bool `help:"Create the SQLite database if it does not exist."`
}

// openExisting opens the store of an admin subcommand. A SQLite file that
// does not exist is refused unless --create: run from the wrong folder, an
// admin command would otherwise make a new empty store there and seem to
// work (list nothing, rotate a key nobody serves).
func (a *AdminFlags) openExisting(ctx context.Context) (fedid.Store, error) {
	return a.StoreFlags.open(ctx, a.Create)
}

// openExisting opens an existing store, never creating one.
func (c *StoreFlags) openExisting(ctx context.Context) (fedid.Store, error) {
	return c.open(ctx, false)
}

func (c *StoreFlags) open(ctx context.Context, create bool) (fedid.Store, error) {
	if !create && !strings.Contains(c.DB, "://") {
		if _, err := os.Stat(c.DB); errors.Is(err, fs.ErrNotExist) {
			abs, _ := filepath.Abs(c.DB)
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
	return app.OpenStore(ctx, c.DB, opts...)
}

// serveCmd runs the server. FEDID_ACCESS_KEY_ID, FEDID_SECRET_ACCESS_KEY
// and FEDID_ACCOUNT_ID are read from the environment only: they are not
// flags, so that a secret never shows in a process listing.
type serveCmd struct {
	StoreFlags `embed:""`

	Addr               string        `env:"FEDID_ADDR" default:"127.0.0.1:9600" help:"Listen address, host:port."`
	Dev                onFlag        `env:"FEDID_DEV" help:"Development mode: accept test/test on any address, with a loud warning (FEDID_DEV=1); never in production."`
	Init               string        `env:"FEDID_INIT" predictor:"file" placeholder:"FILE" help:"Declared state file (YAML or JSON) applied at every start and after every reset."`
	Issuer             string        `env:"FEDID_ISSUER" placeholder:"URL" help:"Token issuer URL (default http://<addr>, https://<addr> with TLS)."`
	TLSCert            string        `name:"tls-cert" env:"FEDID_TLS_CERT" predictor:"file" placeholder:"FILE" help:"PEM certificate chain: serve HTTPS, reloaded on SIGHUP or change (with --tls-key)."`
	TLSKey             string        `name:"tls-key" env:"FEDID_TLS_KEY" predictor:"file" placeholder:"FILE" help:"PEM private key of --tls-cert."`
	OpenIDTokenTTL     time.Duration `name:"openid-token-ttl" env:"FEDID_OPENID_TOKEN_TTL" default:"10m0s" help:"Lifetime of GetOpenIdToken tokens."`
	KeyRotation        time.Duration `env:"FEDID_KEY_ROTATION" default:"${default_rotation}" help:"Signing key rotation period."`
	CognitoIdPEndpoint string        `name:"cognito-idp-endpoint" env:"FEDID_COGNITO_IDP_ENDPOINT" placeholder:"URL" help:"Base URL of the Cognito user pool service whose tokens are checked; a user pool's issuer is <url>/<pool id> (default the real service)."`
	SocialIssuers      string        `env:"FEDID_SOCIAL_ISSUERS" placeholder:"PROVIDER=ISSUER,..." help:"Comma-separated provider=issuer pairs overriding the issuers of social providers, e.g. accounts.google.com=http://127.0.0.1:8080."`
	ProviderEndpoints  string        `env:"FEDID_PROVIDER_ENDPOINTS" placeholder:"PROVIDER=URL,..." help:"Comma-separated provider=URL pairs overriding where the access tokens of graph.facebook.com, www.amazon.com and api.twitter.com are checked (defaults https://graph.facebook.com, https://api.amazon.com, https://api.twitter.com)."`
	OIDCProvidersFile  string        `name:"oidc-providers-file" env:"FEDID_OIDC_PROVIDERS_FILE" predictor:"file" placeholder:"FILE" help:"JSON file of OIDC providers to register at start: [{account, url, clientIds, jwksUrl, jwksFile}]."`
	Credentials        string        `env:"FEDID_CREDENTIALS" default:"local" help:"GetCredentialsForIdentity mode: local (fedid issues and accepts the credentials) or sts."`
	STSEndpoint        string        `name:"sts-endpoint" env:"FEDID_STS_ENDPOINT" placeholder:"URL" help:"STS endpoint for --credentials sts."`
	CredentialsTTL     time.Duration `name:"credentials-ttl" env:"FEDID_CREDENTIALS_TTL" default:"1h0m0s" help:"Lifetime of issued credentials."`
	DebugAddr          string        `env:"FEDID_DEBUG_ADDR" placeholder:"HOST:PORT" help:"Serve net/http/pprof on this address."`
	Throttle           string        `env:"FEDID_THROTTLE" default:"off" help:"off, or aws for the service's documented per-account rates."`
	ProviderTimeout    time.Duration `env:"FEDID_PROVIDER_TIMEOUT" default:"5s" help:"Timeout of fetching a provider's discovery document or keys, or of asking a provider about an access token."`
	LogLevel           string        `env:"FEDID_LOG_LEVEL" default:"info" help:"debug, info, warn or error."`
	LogFormat          string        `env:"FEDID_LOG_FORMAT" default:"text" help:"text or json."`
	Signer             string        `env:"FEDID_SIGNER" default:"openssl" help:"RS512 signer: openssl (libcrypto, crypto/rsa when it cannot be loaded) or go (crypto/rsa)."`
}

func (s *serveCmd) Run(e *runEnv) error {
	ctx, stderr := e.ctx, e.stderr
	if err := keys.UseSigner(s.Signer); err != nil {
		return fmt.Errorf("serve: --signer: %w", err)
	}
	masterKey, err := s.masterKey()
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if err := checkAddr(s.Addr); err != nil {
		return err
	}
	if err := checkIssuer(s.Issuer); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(s.LogLevel)); err != nil {
		return fmt.Errorf("serve: --log-level: %w", err)
	}
	var handler slog.Handler
	switch s.LogFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return fmt.Errorf("serve: --log-format must be text or json, not %q", s.LogFormat)
	}
	log := slog.New(handler)
	if os.Getenv("GOGC") == "" {
		// fedid's heap is small and short-lived per request: collecting
		// less often saves a few percent of CPU per token (BENCHMARKS.md).
		debug.SetGCPercent(400)
	}
	socialIssuers := map[string]string{}
	for _, pair := range strings.Split(s.SocialIssuers, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		name, iss, ok := strings.Cut(pair, "=")
		if !ok || name == "" || iss == "" {
			return fmt.Errorf("serve: --social-issuers: %q is not provider=issuer", pair)
		}
		socialIssuers[name] = iss
	}
	providerEndpoints, err := parseProviderEndpoints(s.ProviderEndpoints)
	if err != nil {
		return err
	}
	var reload <-chan struct{}
	if s.TLSCert != "" || s.TLSKey != "" || s.OIDCProvidersFile != "" {
		reload = reloadOnSIGHUP(ctx)
	}
	return app.Serve(ctx, app.Config{
		Addr:            s.Addr,
		Dev:             bool(s.Dev),
		InitFile:        s.Init,
		DB:              s.DB,
		Region:          s.Region,
		Issuer:          s.Issuer,
		TLSCert:         s.TLSCert,
		TLSKey:          s.TLSKey,
		Reload:          reload,
		AccessKeyID:     os.Getenv("FEDID_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("FEDID_SECRET_ACCESS_KEY"),
		AccountID:       cmp.Or(os.Getenv("FEDID_ACCOUNT_ID"), fedid.DefaultAccountID),
		OpenIDTokenTTL:  s.OpenIDTokenTTL,
		KeyRotation:     s.KeyRotation,
		Federation: federation.Config{
			CognitoIdPEndpoint: s.CognitoIdPEndpoint,
			SocialIssuers:      socialIssuers,
			ProviderEndpoints:  providerEndpoints,
			Timeout:            s.ProviderTimeout,
		},
		ProvidersFile:  s.OIDCProvidersFile,
		Credentials:    s.Credentials,
		STSEndpoint:    s.STSEndpoint,
		CredentialsTTL: s.CredentialsTTL,
		Throttle:       s.Throttle,
		DebugAddr:      s.DebugAddr,
		MasterKey:      masterKey,
		Logger:         log,
	})
}

type signingKeysCmd struct {
	Rotate signingKeysRotateCmd `cmd:"" help:"Publish a new token signing key now."`
}

type signingKeysRotateCmd struct {
	AdminFlags `embed:""`
}

func (c *signingKeysRotateCmd) Run(e *runEnv) error {
	ctx, stdout := e.ctx, e.stdout
	st, err := c.openExisting(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	km := keys.NewManager(st, fedid.SystemClock{}, keys.Options{Region: c.Region})
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
