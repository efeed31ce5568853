// Package e2e drives a real fedid server, started in-process on
// 127.0.0.1:0 with a temporary SQLite database by fedidtest (the package
// Go users test with), with the real aws-sdk-go-v2 cognitoidentity client
// and raw SigV4-signed requests.
package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/smithy-go"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/fedidtest"
	"github.com/fedid/fedid/internal/app"
	"github.com/fedid/fedid/internal/federation"
	"github.com/fedid/fedid/internal/seal"
	"github.com/fedid/fedid/internal/store/postgres/pgtest"
	"github.com/fedid/fedid/internal/store/sqlstore"
)

// Second account's key, seeded into the database before start.
const (
	otherKeyID   = "AKIAOTHERACCOUNT0001"
	otherSecret  = "other-secret-other-secret-other-secret-0"
	otherAccount = "111111111111"
)

// server is a fedid started by fedidtest, the package Go users start
// fedid in their tests with: every e2e test runs through it.
type server struct {
	*fedidtest.Server
	// URL is the server's Endpoint (https:// with tlsCert).
	URL string
}

type startOpts struct {
	db     string
	clock  fedid.Clock
	issuer string
	// keyReload shortens the signing-key reload interval.
	keyReload   time.Duration
	federation  federation.Config
	credentials string
	stsEndpoint string
	// readHeaderTimeout shortens the server's header timeout.
	readHeaderTimeout time.Duration
	// log, when set, receives the server's log at debug level.
	log io.Writer
	// providersFile is --oidc-providers-file.
	providersFile string
	// tlsCert and tlsKey serve HTTPS (URL is then https://); reload and
	// tlsPoll are app.Config's Reload and TLSPoll.
	tlsCert, tlsKey string
	reload          chan struct{}
	tlsPoll         time.Duration
}

// sealedKey is the master key of the whole suite with FEDID_E2E_SEALED=1
// (every store then seals its secrets); nil otherwise.
var sealedKey = func() *seal.Key {
	if os.Getenv("FEDID_E2E_SEALED") != "1" {
		return nil
	}
	text, err := seal.Generate()
	if err != nil {
		panic(err)
	}
	k, err := seal.Parse([]byte(text))
	if err != nil {
		panic(err)
	}
	return k
}()

// storeOpts are the options of every store the suite opens itself.
func storeOpts() []sqlstore.Option { return []sqlstore.Option{sqlstore.WithMasterKey(sealedKey)} }

// start runs fedid with the loopback test key and a second account's key,
// through fedidtest.New: the settings fedidtest does not offer reach
// app.Config through fedidtest.WithConfig. The server stops when the test
// ends, or earlier with stop.
func start(tb testing.TB, o startOpts) *server {
	tb.Helper()
	if o.db == "" {
		o.db = filepath.Join(tb.TempDir(), "fedid.db")
		// FEDID_E2E_BACKEND=postgres runs the whole suite on PostgreSQL.
		if os.Getenv("FEDID_E2E_BACKEND") == "postgres" {
			o.db = pgtest.Schema(tb)
		}
	}
	ctx := context.Background()
	st, err := app.OpenStore(ctx, o.db, storeOpts()...)
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.PutAccessKey(ctx, fedid.AccessKey{ID: otherKeyID, Secret: otherSecret, Account: otherAccount, Created: time.Now()}); err != nil {
		tb.Fatal(err)
	}
	if err := st.Close(); err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if o.log != nil {
		logger = slog.New(slog.NewTextHandler(o.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	fs := fedidtest.New(tb, fedidtest.WithDB(o.db), fedidtest.WithLogger(logger), fedidtest.WithConfig(func(c *app.Config) {
		c.Clock = o.clock
		c.Issuer = o.issuer
		c.KeyReload = o.keyReload
		c.Federation = o.federation
		c.Credentials = o.credentials
		c.STSEndpoint = o.stsEndpoint
		c.ReadHeaderTimeout = o.readHeaderTimeout
		c.TLSCert, c.TLSKey = o.tlsCert, o.tlsKey
		c.Reload = o.reload
		c.ProvidersFile = o.providersFile
		c.TLSPoll = o.tlsPoll
		c.MasterKey = sealedKey
	}))
	return &server{Server: fs, URL: fs.Endpoint}
}

// stop shuts the server down and waits for it; safe to call twice. An
// unclean shutdown fails the test.
func (s *server) stop() { s.Stop() }

func (s *server) client(keyID, secret, region string) *ci.Client {
	return ci.New(ci.Options{
		Region:           region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// testClient is the loopback default account's client, made from
// fedidtest's AWSConfig (a server a test started itself, &server{URL: ...},
// has none).
func (s *server) testClient() *ci.Client {
	if s.Server == nil {
		return s.client("test", "test", "us-east-1")
	}
	return ci.NewFromConfig(s.AWSConfig(), func(o *ci.Options) { o.RetryMaxAttempts = 1 })
}

// apiErr asserts err is an API error with the given code and returns its
// message.
func apiErr(tb testing.TB, err error, code string) string {
	tb.Helper()
	if err == nil {
		tb.Fatalf("want %s, got success", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		tb.Fatalf("want API error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		tb.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	return ae.ErrorMessage()
}

// rawResp is a decoded API response.
type rawResp struct {
	Status  int
	Header  http.Header
	Body    []byte
	Type    string
	Message string
}

// raw sends body to operation op, signed with the SDK's own SigV4 signer
// as keyID/secret at time at (zero: now), or unsigned when keyID is "".
func (s *server) raw(tb testing.TB, op, body, keyID, secret string, at time.Time) rawResp {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+op)
	if keyID != "" {
		if at.IsZero() {
			at = time.Now()
		}
		sign(tb, req, body, keyID, secret, "cognito-identity", at)
	}
	return do(tb, req)
}

// sign signs req with the SDK's own SigV4 signer.
func sign(tb testing.TB, req *http.Request, body, keyID, secret, service string, at time.Time) {
	tb.Helper()
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), service, "us-east-1", at)
	if err != nil {
		tb.Fatal(err)
	}
}

func do(tb testing.TB, req *http.Request) rawResp {
	tb.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := rawResp{Status: res.StatusCode, Header: res.Header, Body: b}
	if res.StatusCode != 200 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		r.Type, r.Message = e.Type, e.Message
	}
	return r
}

// signed sends a request signed with the test key now.
func (s *server) signed(tb testing.TB, op, body string) rawResp {
	tb.Helper()
	return s.raw(tb, op, body, "test", "test", time.Time{})
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// fixedClock is a settable clock.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fixedClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// errorCode is the API error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// schemaOf returns the search_path (the test schema) of a pgtest URL.
func schemaOf(u string) string {
	_, q, _ := strings.Cut(u, "?")
	for _, kv := range strings.Split(q, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == "search_path" {
			return v
		}
	}
	return ""
}
