// Package app wires fedid together: it opens the store, registers access
// keys, starts the signing-key manager and serves HTTP until its context
// ends. cmd/fedid parses flags into a Config; end-to-end tests call Serve
// directly on 127.0.0.1:0.
package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/auth"
	"github.com/fedid/fedid/internal/awsquery"
	"github.com/fedid/fedid/internal/console"
	"github.com/fedid/fedid/internal/credentials"
	"github.com/fedid/fedid/internal/federation"
	"github.com/fedid/fedid/internal/identity"
	"github.com/fedid/fedid/internal/initfile"
	"github.com/fedid/fedid/internal/keys"
	"github.com/fedid/fedid/internal/oidc"
	"github.com/fedid/fedid/internal/seal"
	"github.com/fedid/fedid/internal/server"
	"github.com/fedid/fedid/internal/sigv4"
	"github.com/fedid/fedid/internal/store/postgres"
	"github.com/fedid/fedid/internal/store/sqlite"
	"github.com/fedid/fedid/internal/store/sqlstore"
	"github.com/fedid/fedid/internal/ttlcache"
)

// Config is everything `fedid serve` can be told.
type Config struct {
	Addr   string
	DB     string
	Region string
	// Issuer defaults to http://<addr> (https:// with TLS) once the
	// listener is bound.
	Issuer string

	// TLSCert and TLSKey, set together, are PEM files: fedid then serves
	// HTTPS (tls.go). Reload, when set, makes fedid read them again
	// (SIGHUP); TLSPoll is how often they are checked for a change
	// (default 3 s; tests shorten it).
	TLSCert, TLSKey string
	Reload          <-chan struct{}
	TLSPoll         time.Duration

	AccessKeyID     string
	SecretAccessKey string
	AccountID       string

	OpenIDTokenTTL time.Duration
	KeyRotation    time.Duration
	// ProvidersFile, when set, names a JSON file of OIDC providers
	// registered at start.
	ProvidersFile string
	// Credentials is "local" (default: fedid issues credentials it accepts
	// itself) or "sts" (AssumeRoleWithWebIdentity at STSEndpoint).
	Credentials    string
	STSEndpoint    string
	CredentialsTTL time.Duration

	// Dev accepts test/test on any address (--dev), loudly, and serves
	// POST /fedid/reset.
	Dev bool

	// InitFile, when set, names the declared state (--init, YAML or JSON)
	// applied at every start and after every reset.
	InitFile string

	// DebugAddr, when set, serves net/http/pprof there (keep it loopback).
	DebugAddr string
	// ReadHeaderTimeout bounds how long a client may take to send a
	// request's headers (default 10 s; tests shorten it).
	ReadHeaderTimeout time.Duration
	// Throttle is "" (off, the default) or "aws" (the service's documented
	// per-account rates).
	Throttle string

	// Federation configures the checking of public provider tokens.
	Federation federation.Config

	// KeyReload is how often the signing keys are re-read from the store
	// (default a minute).
	KeyReload time.Duration

	// MasterKey, when set, seals the store's secrets at rest; nil keeps
	// them in plaintext.
	MasterKey *seal.Key

	Logger *slog.Logger
	Clock  fedid.Clock
	// Ready, when set, is called with the bound address once the server
	// accepts connections.
	Ready func(addr string)
}

// OpenStore opens the store a --db value names: a SQLite file, or a
// PostgreSQL URL; opts say how its secrets are sealed.
func OpenStore(ctx context.Context, db string, opts ...sqlstore.Option) (fedid.Store, error) {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		st, err := postgres.Open(ctx, db, opts...)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, db, opts...)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// RedactDB hides the password of a database URL, for logs.
func RedactDB(db string) string {
	u, err := url.Parse(db)
	if err != nil || u.Scheme == "" {
		if strings.Contains(db, "://") {
			return "(unparsable database URL)"
		}
		return db
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Serve runs fedid until ctx ends, then shuts down gracefully: in-flight
// requests finish and the store closes cleanly.
func Serve(ctx context.Context, cfg Config) error {
	if err := cfg.defaults(); err != nil {
		return err
	}
	log := cfg.Logger
	// A reload request (SIGHUP) goes to the TLS certificate and to the
	// providers file, each from its own channel.
	reloadProviders := cfg.Reload
	if cfg.Reload != nil && cfg.TLSCert != "" && cfg.ProvidersFile != "" {
		var tlsReload chan struct{}
		reloadProviders, tlsReload = fanOut(ctx, cfg.Reload)
		cfg.Reload = tlsReload
	}
	tlsConf, stopTLS, certNotAfter, err := newTLS(ctx, cfg)
	if err != nil {
		return err
	}
	defer stopTLS()
	if cfg.MasterKey == nil && !auth.IsLoopback(cfg.Addr) {
		log.Warn("no master key: the store keeps signing keys and access key secrets in plaintext; give one with --master-key-file")
	}
	storeSeconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "fedid_store_query_duration_seconds",
		Help:    "Store statement latency by statement, rows read included.",
		Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .1, .5},
	}, []string{"statement"})
	st, err := OpenStore(ctx, cfg.DB, sqlstore.WithMasterKey(cfg.MasterKey), sqlstore.WithLogger(log),
		sqlstore.WithQueryObserver(func(stmt string, d time.Duration) { storeSeconds.WithLabelValues(stmt).Observe(d.Seconds()) }))
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	if cfg.InitFile != "" {
		// Before the access keys are read (the file may declare some) and
		// before the listener: a server whose declared state is wrong does
		// not start.
		if err := applyInit(ctx, cfg, st, identity.New(identity.Deps{Store: st, Clock: cfg.Clock}, identity.Config{})); err != nil {
			return err
		}
	}
	local := cfg.Credentials == "" || cfg.Credentials == "local"
	keyring, err := auth.Open(ctx, st, auth.Options{
		AccessKey: fedid.AccessKey{ID: cfg.AccessKeyID, Secret: cfg.SecretAccessKey, Account: cfg.AccountID},
		Addr:      cfg.Addr, Sessions: local, Dev: cfg.Dev, Clock: cfg.Clock, Logger: log,
	})
	if err != nil {
		return err
	}
	if cfg.ProvidersFile != "" {
		n, err := LoadProviders(ctx, st, cfg.ProvidersFile, cfg.Clock.Now())
		if err != nil {
			return err
		}
		log.Info("OIDC providers registered from file", "file", cfg.ProvidersFile, "count", n)
		if reloadProviders != nil {
			go reloadProvidersOn(ctx, reloadProviders, st, cfg.ProvidersFile, cfg.Clock, log)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	scheme := "http"
	if tlsConf != nil {
		ln, scheme = tls.NewListener(ln, tlsConf), "https"
	}
	cfg.Issuer = issuerFor(cfg.Issuer, scheme, cfg.Addr, ln.Addr().String(), log)

	reg := newRegistry(st)
	reg.MustRegister(storeSeconds)
	if certNotAfter != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fedid_tls_certificate_expiry_timestamp_seconds",
			Help: "When the TLS certificate being served expires (Unix seconds).",
		}, func() float64 { return float64(certNotAfter().Unix()) }))
	}
	signSeconds := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "fedid_sign_duration_seconds",
		Help:    "RS512 signature latency, queueing for a batch included.",
		Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1},
	})
	reg.MustRegister(signSeconds)
	km := keys.NewManager(st, cfg.Clock, keys.Options{Region: cfg.Region, RotationPeriod: cfg.KeyRotation, ReloadEvery: cfg.KeyReload, Logger: log,
		ObserveSign: func(d time.Duration) { signSeconds.Observe(d.Seconds()) }})
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "fedid_signing_key_age_seconds",
		Help: "How long the current signing key has been signing.",
	}, func() float64 { return km.CurrentKeyAge().Seconds() }))
	if err := km.Init(ctx); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	go km.Run(bg)
	go keyring.Run(bg) // writes access keys' last use once a minute
	if local {
		go sweepSessions(bg, st, cfg.Clock, log)
	}
	h, err := newHandler(cfg, st, km, keyring.Lookup, keyring.TestKey(), reg)
	if err != nil {
		return err
	}
	if cfg.DebugAddr != "" {
		stop := servePprof(cfg.DebugAddr, log)
		defer stop()
	}
	log.Info("fedid serving", "addr", ln.Addr().String(), "issuer", cfg.Issuer, "region", cfg.Region,
		"db", RedactDB(cfg.DB), "signer", keys.Backend())
	err = run(ctx, newHTTPServer(h, cfg.ReadHeaderTimeout, log), ln, cfg.Ready, log)
	// The use recorded since the last minute's flush, before the store
	// closes.
	keyring.Flush(context.WithoutCancel(ctx))
	return err
}

// defaults fills in what the caller left out and checks the rest.
func (cfg *Config) defaults() error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = fedid.SystemClock{}
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = fedid.DefaultAccountID
	}
	if err := checkAccount(cfg.AccountID); err != nil {
		return err
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return errors.New("FEDID_ACCESS_KEY_ID and FEDID_SECRET_ACCESS_KEY must be set together")
	}
	switch cfg.Credentials {
	case "", "local":
	case "sts":
		if cfg.STSEndpoint == "" {
			return errors.New("--credentials sts needs --sts-endpoint (FEDID_STS_ENDPOINT)")
		}
	default:
		return fmt.Errorf("--credentials must be local or sts, not %q", cfg.Credentials)
	}
	switch cfg.Throttle {
	case "", "off", "aws":
	default:
		return fmt.Errorf("--throttle must be off or aws, not %q", cfg.Throttle)
	}
	return nil
}

// issuerFor returns the token issuer: the configured one, or
// scheme://<addr> as configured (the bound address only when the system
// chose the port).
func issuerFor(issuer, scheme, addr, bound string, log *slog.Logger) string {
	if issuer == "" {
		issuer = scheme + "://" + addr
		if _, port, _ := net.SplitHostPort(addr); port == "0" || port == "" {
			issuer = scheme + "://" + bound
		}
		if host, _, _ := net.SplitHostPort(addr); host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
			log.Warn("the token issuer names a wildcard address that verifiers cannot reach; set --issuer (FEDID_ISSUER) to fedid's public URL", "issuer", issuer)
		}
	}
	return strings.TrimSuffix(issuer, "/")
}

// newHandler builds the rules over the store and the adapters, and the
// HTTP handler over the rules.
func newHandler(cfg Config, st fedid.Store, km *keys.Manager, lookup sigv4.SecretLookup, testKey bool, reg *prometheus.Registry) (http.Handler, error) {
	var (
		sessions server.SessionReader
		issuer   fedid.CredentialIssuer
	)
	if cfg.Credentials == "sts" {
		issuer = credentials.NewSTS(cfg.STSEndpoint, cfg.Region, cfg.Clock, cfg.CredentialsTTL)
	} else {
		issuer = credentials.NewLocal(st, cfg.Clock, cfg.CredentialsTTL)
		sessions = st
	}
	svc := identity.New(identity.Deps{
		Store:       st,
		Signer:      km,
		Logins:      federation.New(cfg.Federation, st, cfg.Clock),
		Credentials: issuer,
		Clock:       cfg.Clock,
		Pools:       ttlcache.New[*fedid.Pool](identity.PoolCacheTTL, 10000),
	}, identity.Config{Issuer: cfg.Issuer, OpenIDTokenTTL: cfg.OpenIDTokenTTL})
	var throttle *server.Throttle
	if cfg.Throttle == "aws" {
		throttle = server.NewThrottle(server.AWSRates, cfg.Clock.Now)
	}
	return server.New(server.Config{
		Service:  svc,
		Verifier: sigv4.NewVerifier("cognito-identity", lookup, cfg.Clock),
		Query: &awsquery.Handler{STS: sigv4.NewVerifier("sts", lookup, cfg.Clock), IAM: sigv4.NewVerifier("iam", lookup, cfg.Clock),
			Providers: st, Log: cfg.Logger, Clock: cfg.Clock},
		Sessions: sessions,
		Throttle: throttle,
		OIDC:     oidc.NewHandler(cfg.Issuer, km),
		Health: func(ctx context.Context) error {
			if p, ok := st.(interface{ Ping(context.Context) error }); ok {
				return p.Ping(ctx)
			}
			return nil
		},
		Logger:     cfg.Logger,
		Registry:   reg,
		Clock:      cfg.Clock,
		HealthNote: devNote(cfg.Dev),
		Reset:      resetFunc(cfg, st, svc),
		Dev:        cfg.Dev,
		Admin:      admin{km: km, st: st, testKey: testKey, operator: cfg.AccountID},
		Console:    console.Handler(console.Options{Dev: cfg.Dev, TestKey: testKey, Region: cfg.Region}),
	}), nil
}

// resetFunc is POST /fedid/reset of development mode: everything but the
// access keys (and the signing keys, so verifiers' cached JWKS stay good)
// is deleted, and the declared state applied again, read afresh.
func resetFunc(cfg Config, st fedid.Store, svc *identity.Service) server.ResetFunc {
	if !cfg.Dev {
		return nil
	}
	return func(ctx context.Context) (any, error) {
		if err := svc.Reset(ctx); err != nil {
			return nil, err
		}
		out := struct {
			Reset    bool
			InitFile string `json:",omitempty"`
		}{Reset: true, InitFile: cfg.InitFile}
		if cfg.InitFile != "" {
			if err := applyInit(ctx, cfg, st, svc); err != nil {
				return nil, fedid.Errorf(fedid.KindInvalidParameter, "The store was reset but the declared state was not applied: %s", err)
			}
		}
		return out, nil
	}
}

// applyInit applies the declared state file (--init).
func applyInit(ctx context.Context, cfg Config, st fedid.Store, svc *identity.Service) error {
	f, err := initfile.Load(cfg.InitFile, cfg.Region)
	if err != nil {
		return err
	}
	r, err := initfile.Apply(ctx, f, st, svc, cfg.Clock.Now())
	if err != nil {
		return err
	}
	cfg.Logger.Info("declared state applied", "file", cfg.InitFile, "created", r.Created, "updated", r.Updated,
		"unchanged", r.Unchanged, "stored_pools_not_in_file", r.NotInFile)
	if r.NotInFile > 0 {
		cfg.Logger.Info("pools that the declared state no longer names stay in the store; delete them through the API if they should go", "count", r.NotInFile)
	}
	return nil
}

// devNote is what /healthz says in development mode.
func devNote(dev bool) string {
	if !dev {
		return ""
	}
	return "WARNING: development mode (--dev): test/test is accepted from anyone who can reach this server"
}

// servePprof serves net/http/pprof on addr until the returned stop.
func servePprof(addr string, log *slog.Logger) (stop func()) {
	dbg := &http.Server{Addr: addr, Handler: pprofMux(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := dbg.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("debug listener", "err", err)
		}
	}()
	log.Info("pprof serving", "addr", addr)
	return func() { dbg.Close() }
}

// run serves until ctx ends, then drains in-flight requests (30 s at
// most).
func run(ctx context.Context, srv *http.Server, ln net.Listener, ready func(string), log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newHTTPServer configures net/http, fedid's only HTTP stack, for a
// service on an open network: every phase of a request is bounded in time
// and size, so a slow or hostile client holds a connection for at most the
// header timeout, then the read timeout. Request bodies are bounded by the
// API handlers (awsjson.MaxBodyBytes).
func newHTTPServer(h http.Handler, readHeaderTimeout time.Duration, log *slog.Logger) *http.Server {
	if readHeaderTimeout <= 0 {
		readHeaderTimeout = 10 * time.Second
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		// The whole request, headers and body: a 1 MiB body at a slow
		// but honest rate fits.
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 30 * time.Second,
		IdleTimeout:  2 * time.Minute,
		// SigV4 headers with a session token take about 2 KiB; 64 KiB
		// leaves room for any SDK and bounds what a client can make fedid
		// hold (net/http's default is 1 MiB).
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// sweepSessions deletes expired temporary credentials every ten minutes.
func sweepSessions(ctx context.Context, st fedid.Store, clock fedid.Clock, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := st.DeleteSessionsBefore(ctx, clock.Now()); err != nil {
				log.Warn("delete expired sessions", "err", err)
			} else if n > 0 {
				log.Debug("deleted expired sessions", "count", n)
			}
		}
	}
}

func checkAccount(a string) error {
	if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
		return fmt.Errorf("account ID %q must be 12 digits", a)
	}
	return nil
}

// NewAccessKey generates an access key for an account: a 20-character ID
// starting with AKIA and a 40-character secret, as AWS shapes them.
func NewAccessKey(account string, now time.Time) (fedid.AccessKey, error) {
	if err := checkAccount(account); err != nil {
		return fedid.AccessKey{}, err
	}
	const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	const secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	return fedid.AccessKey{
		ID:      "AKIA" + randomString(16, idChars),
		Secret:  randomString(40, secretChars),
		Account: account,
		Created: now,
	}, nil
}

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
