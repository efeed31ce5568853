package fedidtest_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/fedid/fedid/fedidtest"
	"github.com/fedid/fedid/internal/app"
	"github.com/fedid/fedid/internal/store/postgres/pgtest"
)

var devPool = cognitoidentity.CreateIdentityPoolInput{
	IdentityPoolName:      aws.String("app"),
	DeveloperProviderName: aws.String("login.example"),
}

// The token DeveloperToken returns verifies with a generic OIDC library
// against the discovery document at Endpoint, for the pool as audience.
func TestDeveloperTokenVerifies(t *testing.T) {
	srv := fedidtest.New(t, fedidtest.WithPool(devPool))
	pool := srv.PoolID("app")
	id, token := srv.DeveloperToken(pool, "alice")
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := provider.Verifier(&oidc.Config{ClientID: pool, SupportedSigningAlgs: []string{"RS512"}}).Verify(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Subject != id {
		t.Fatalf("sub %s, identity %s", tok.Subject, id)
	}
	if again, _ := srv.DeveloperToken(pool, "alice"); again != id {
		t.Fatalf("alice is %s, then %s", id, again)
	}
}

// Stop can be called early and twice; a server started on the same DB
// has the first one's pools.
func TestStopAndRestart(t *testing.T) {
	srv := fedidtest.New(t, fedidtest.WithPool(devPool))
	pool := srv.PoolID("app")
	srv.Stop()
	srv.Stop()
	if _, err := http.Get(srv.Endpoint + "/healthz"); err == nil {
		t.Fatal("the server still answers after Stop")
	}
	again := fedidtest.New(t, fedidtest.WithDB(srv.DB))
	out, err := again.Client().DescribeIdentityPool(context.Background(), &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(pool)})
	if err != nil || aws.ToString(out.IdentityPoolName) != "app" {
		t.Fatalf("after restart: %v %+v", err, out)
	}
}

func TestPostgres(t *testing.T) {
	srv := fedidtest.New(t, fedidtest.WithDB(pgtest.Schema(t)), fedidtest.WithPool(devPool))
	if id, _ := srv.DeveloperToken(srv.PoolID("app"), "bob"); !strings.HasPrefix(id, "us-east-1:") {
		t.Fatalf("identity %s", id)
	}
}

func TestWithDev(t *testing.T) {
	srv := fedidtest.New(t, fedidtest.WithDev(), fedidtest.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	res, err := http.Get(srv.Endpoint + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), "development mode") {
		t.Fatalf("/healthz: %s", b)
	}
}

func TestWithLogger(t *testing.T) {
	var buf syncBuffer
	fedidtest.New(t, fedidtest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil)))).Stop()
	if !strings.Contains(buf.String(), "fedid serving") {
		t.Fatalf("log: %s", buf.String())
	}
}

// By default, warnings go to the test's log, and nothing does once the
// server has stopped.
func TestDefaultLogger(t *testing.T) {
	rec := &recordingT{T: t}
	srv := fedidtest.New(rec, fedidtest.WithDev())
	srv.Stop()
	logs := rec.logs()
	if len(logs) != 1 || !strings.Contains(logs[0], "DEVELOPMENT MODE") || !strings.Contains(logs[0], "level=WARN") {
		t.Fatalf("logs: %q", logs)
	}
}

// WithConfig reaches the rest of app.Config (module-internal callers
// only).
func TestWithConfig(t *testing.T) {
	srv := fedidtest.New(t, fedidtest.WithPool(devPool), fedidtest.WithConfig(func(c *app.Config) { c.Region = "eu-west-1" }))
	if srv.Region != "eu-west-1" || srv.AWSConfig().Region != "eu-west-1" {
		t.Fatalf("region %s, AWSConfig region %s", srv.Region, srv.AWSConfig().Region)
	}
	if id, _ := srv.DeveloperToken(srv.PoolID("app"), "carol"); !strings.HasPrefix(id, "eu-west-1:") {
		t.Fatalf("identity %s", id)
	}
}

// recordingT records what is logged to it.
type recordingT struct {
	*testing.T
	mu  sync.Mutex
	got []string
}

func (r *recordingT) Log(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range args {
		r.got = append(r.got, a.(string))
	}
}

func (r *recordingT) logs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
