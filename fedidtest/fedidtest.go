// Package fedidtest starts a real fedid, in-process, for Go tests that
// call Amazon Cognito Identity (identity pools) or STS through
// aws-sdk-go-v2.
//
//	func TestLogin(t *testing.T) {
//		srv := fedidtest.New(t, fedidtest.WithPool(cognitoidentity.CreateIdentityPoolInput{
//			IdentityPoolName:      aws.String("app"),
//			DeveloperProviderName: aws.String("login.example"),
//		}))
//		id, token := srv.DeveloperToken(srv.PoolID("app"), "alice")
//		client := cognitoidentity.NewFromConfig(srv.AWSConfig()) // or sts.NewFromConfig
//		// ... hand the client (or srv.AWSConfig()) to the code under test.
//	}
//
// Credentials need roles, as in AWS: GetCredentialsForIdentity answers
// InvalidIdentityPoolConfigurationException until the pool has them.
// Give them with the API,
//
//	srv.Client().SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{
//		IdentityPoolId: aws.String(srv.PoolID("app")),
//		Roles:          map[string]string{"authenticated": "arn:aws:iam::000000000000:role/app"},
//	})
//
// or declare the pools, roles and all, in a file for WithInit (the format
// of fedid serve --init, documented in fedid's docs/init-file.md).
//
// New listens on 127.0.0.1 on a free port, keeps its data in a fresh SQLite
// file under t.TempDir() (or the database WithDB names), and stops the
// server when the test ends. The server accepts the access key test/test,
// which AWSConfig carries; the tokens it issues verify against its own
// OIDC discovery document at Endpoint.
package fedidtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"github.com/fedid/fedid/internal/app"
)

// Server is a running fedid. Its fields are set by New and must not be
// changed.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:<port>.
	Endpoint string
	// Region is the region fedid serves (us-east-1).
	Region string
	// DB is the database the server keeps its state in: a SQLite file, or
	// the PostgreSQL URL given to WithDB. A test can stop the server and
	// start another on the same DB to check what survives a restart.
	DB string

	tb       testing.TB
	keyID    string
	secret   string
	pools    map[string]string
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	logs     *tbWriter
}

// Option configures New.
type Option func(*settings)

type settings struct {
	cfg     app.Config
	logger  *slog.Logger
	pools   []cognitoidentity.CreateIdentityPoolInput
	configs []func(*app.Config)
}

// WithDB keeps the server's state in db: a SQLite file path, or a
// PostgreSQL URL (postgres://...). The database is created if needed and
// left in place when the test ends. Without WithDB, the server uses a new
// SQLite file under t.TempDir().
func WithDB(db string) Option { return func(s *settings) { s.cfg.DB = db } }

// WithDev runs the server in development mode, as fedid serve --dev does:
// it accepts test/test from any address and says so, in its log (a
// warning) and in /healthz, and it serves POST /fedid/reset
// (Server.Reset).
func WithDev() Option { return func(s *settings) { s.cfg.Dev = true } }

// WithInit gives the server the declared state in file (YAML or JSON),
// as fedid serve --init does: fedid applies it when it starts, and again
// after every reset.
func WithInit(file string) Option { return func(s *settings) { s.cfg.InitFile = file } }

// WithLogger sends the server's log to l. By default, only warnings and
// errors are logged, to the test's log (t.Log).
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }

// WithPool creates an identity pool in the default account once the server
// is ready; Server.PoolID gives its ID by name. IdentityPoolName is
// required; AllowUnauthenticatedIdentities is false unless set, as in the
// API. New fails the test if the pool cannot be created.
func WithPool(in cognitoidentity.CreateIdentityPoolInput) Option {
	return func(s *settings) { s.pools = append(s.pools, in) }
}

// WithConfig lets f change the server's configuration after the other
// options are applied, just before the server starts.
//
// app.Config is in fedid's internal/app package, which only code inside
// the fedid module can import, so only that code can write f: this is how
// fedid's own end-to-end tests reach the settings (clock, TLS, federation,
// credentials mode, ...) that are not part of this package's API and may
// change at any time. Putting the implementation in an internal package
// that this package wraps would have kept WithConfig out of sight, but the
// end-to-end tests would then not run this package's code; an option
// nobody outside the module can use costs nothing and keeps one code path.
func WithConfig(f func(*app.Config)) Option {
	return func(s *settings) { s.configs = append(s.configs, f) }
}

// New starts fedid for the test and waits until it accepts requests. The
// server is stopped, and its clean shutdown checked, when the test and its
// subtests end (t.Cleanup). New must be called from the test's goroutine.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var s settings
	for _, o := range opts {
		o(&s)
	}
	srv := &Server{tb: t, pools: map[string]string{}, done: make(chan error, 1)}
	if s.cfg.DB == "" {
		s.cfg.DB = filepath.Join(t.TempDir(), "fedid.db")
	}
	if s.logger == nil {
		srv.logs = &tbWriter{tb: t}
		s.logger = slog.New(slog.NewTextHandler(srv.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg := s.cfg
	cfg.Addr = "127.0.0.1:0"
	cfg.AccessKeyID, cfg.SecretAccessKey = "test", "test"
	cfg.Logger = s.logger
	for _, f := range s.configs {
		f(&cfg)
	}
	srv.DB, srv.Region = cfg.DB, cfg.Region
	if srv.Region == "" {
		srv.Region = "us-east-1" // app.Config's default
	}
	srv.keyID, srv.secret = cfg.AccessKeyID, cfg.SecretAccessKey
	ready := make(chan string, 1)
	next := cfg.Ready
	cfg.Ready = func(addr string) {
		if next != nil {
			next(addr)
		}
		ready <- addr
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv.cancel = cancel
	go func() { srv.done <- app.Serve(ctx, cfg) }()
	select {
	case addr := <-ready:
		srv.Endpoint = "http://" + addr
		if cfg.TLSCert != "" {
			srv.Endpoint = "https://" + addr
		}
	case err := <-srv.done:
		cancel()
		srv.logs.close()
		t.Fatalf("fedidtest: fedid did not start: %v", err)
	case <-time.After(20 * time.Second):
		t.Cleanup(srv.Stop)
		t.Fatal("fedidtest: fedid did not start in 20s")
	}
	t.Cleanup(srv.Stop)
	for _, in := range s.pools {
		out, err := srv.Client().CreateIdentityPool(context.Background(), &in)
		if err != nil {
			t.Fatalf("fedidtest: create identity pool %q: %v", aws.ToString(in.IdentityPoolName), err)
		}
		srv.pools[aws.ToString(in.IdentityPoolName)] = aws.ToString(out.IdentityPoolId)
	}
	return srv
}

// Stop shuts the server down, letting in-flight requests finish, and
// waits until it has stopped; a shutdown that is not clean fails the test
// (t.Error). New arranges for Stop to run when the test ends; a test calls
// it earlier to see what happens to clients, or to restart on the same DB.
// Calls after the first do nothing.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.cancel()
		err := <-s.done
		s.logs.close()
		if err != nil {
			s.tb.Errorf("fedidtest: fedid did not stop cleanly: %v", err)
		}
	})
}

// AWSConfig is an aws-sdk-go-v2 configuration for the server: its region,
// the static credentials test/test, and BaseEndpoint set to Endpoint, so
// that every client made from it (cognitoidentity.NewFromConfig,
// sts.NewFromConfig) sends its requests to the server.
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       s.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.keyID, s.secret, ""),
		BaseEndpoint: aws.String(s.Endpoint),
	}
}

// Client is a Cognito Identity client for the server, made from AWSConfig.
func (s *Server) Client() *cognitoidentity.Client {
	return cognitoidentity.NewFromConfig(s.AWSConfig())
}

// PoolID is the ID of the identity pool that WithPool created with name;
// it fails the test (t.Fatal) if there is none.
func (s *Server) PoolID(name string) string {
	s.tb.Helper()
	id, ok := s.pools[name]
	if !ok {
		s.tb.Fatalf("fedidtest: no pool named %q was created with WithPool", name)
	}
	return id
}

// DeveloperToken signs user in to the identity pool poolID with the pool's
// developer provider (its DeveloperProviderName), as a developer's backend
// does with GetOpenIdTokenForDeveloperIdentity, and returns the identity
// ID and its OpenID token (a JWT). It fails the test (t.Fatal) on any
// error, including a pool without a developer provider, so it must be
// called from the test's goroutine.
func (s *Server) DeveloperToken(poolID, user string) (identityID, token string) {
	s.tb.Helper()
	ctx := context.Background()
	c := s.Client()
	d, err := c.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(poolID)})
	if err != nil {
		s.tb.Fatalf("fedidtest: describe identity pool %s: %v", poolID, err)
	}
	provider := aws.ToString(d.DeveloperProviderName)
	if provider == "" {
		s.tb.Fatalf("fedidtest: identity pool %s has no DeveloperProviderName", poolID)
	}
	out, err := c.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(poolID),
		Logins:         map[string]string{provider: user},
	})
	if err != nil {
		s.tb.Fatalf("fedidtest: GetOpenIdTokenForDeveloperIdentity for %s in %s: %v", user, poolID, err)
	}
	return aws.ToString(out.IdentityId), aws.ToString(out.Token)
}

// Reset empties the server but for its access keys (every pool, identity,
// OIDC provider and issued credential goes) and applies the WithInit file
// again, as POST /fedid/reset does; the server needs WithDev. Pools made
// by WithPool are not made again: declare with WithInit what every test
// should start from. It fails the test (t.Fatal) on any error.
func (s *Server) Reset() {
	s.tb.Helper()
	const body = "{}"
	req, err := http.NewRequest(http.MethodPost, s.Endpoint+"/fedid/reset", strings.NewReader(body))
	if err != nil {
		s.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: s.keyID, SecretAccessKey: s.secret},
		req, hex.EncodeToString(sum[:]), "cognito-identity", s.Region, time.Now()); err != nil {
		s.tb.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.tb.Fatalf("fedidtest: reset: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusNotFound {
		s.tb.Fatal("fedidtest: reset needs a server started WithDev")
	}
	if res.StatusCode != http.StatusOK {
		s.tb.Fatalf("fedidtest: reset: %d %s", res.StatusCode, b)
	}
	s.pools = map[string]string{}
}

// tbWriter writes each log record to the test's log until closed: the
// server's goroutines may still log while it stops, and t.Log panics once
// the test has ended.
type tbWriter struct {
	mu     sync.Mutex
	tb     testing.TB
	closed bool
}

var _ io.Writer = (*tbWriter)(nil)

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.tb.Log(fmt.Sprintf("fedid: %s", strings.TrimSuffix(string(p), "\n")))
	}
	return len(p), nil
}

func (w *tbWriter) close() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}
