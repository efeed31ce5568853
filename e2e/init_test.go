package e2e

import (
	"context"
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
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"github.com/fedid/fedid/internal/app"
	"github.com/fedid/fedid/internal/store/postgres/pgtest"
)

// The pool and identity IDs examples/init.yaml fixes.
const (
	examplePool     = "us-east-1:2f3c6a1e-0000-4000-8000-000000000001"
	exampleIdentity = "us-east-1:2f3c6a1e-0000-4000-8000-0000000000a1"
)

// serveInit starts fedid on a store with --init (and --dev when dev) and
// returns its URL, and a function that stops it and returns Serve's error.
func serveInit(t *testing.T, db, initFile string, dev bool) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- app.Serve(ctx, app.Config{Addr: "127.0.0.1:0", DB: db, Dev: dev, InitFile: initFile,
			AccessKeyID: "test", SecretAccessKey: "test", MasterKey: sealedKey,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: func(a string) { ready <- a }})
	}()
	select {
	case a := <-ready:
		var once sync.Once
		var err error
		stop := func() error { once.Do(func() { cancel(); err = <-done }); return err }
		t.Cleanup(func() { _ = stop() })
		return "http://" + a, stop
	case err := <-done:
		cancel()
		return "", func() error { return err }
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start in 20s")
		return "", nil
	}
}

func initDB(t *testing.T) string {
	if os.Getenv("FEDID_E2E_BACKEND") == "postgres" {
		return pgtest.Schema(t)
	}
	return filepath.Join(t.TempDir(), "fedid.db")
}

func exampleFile(t *testing.T) string {
	p, err := filepath.Abs("../examples/init.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func clientFor(url string) *ci.Client {
	s := &server{URL: url}
	return s.testClient()
}

// TestInitFileAtEveryStart: the declared pool is there at once under the
// ID the file gives, a second start with the same file changes nothing,
// and a wrong file stops the server from starting, naming file and line.
func TestInitFileAtEveryStart(t *testing.T) {
	db := initDB(t)
	url, stop := serveInit(t, db, exampleFile(t), false)
	c := clientFor(url)
	ctx := context.Background()
	p, err := c.DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: aws.String(examplePool)})
	if err != nil || aws.ToString(p.DeveloperProviderName) != "login.example" {
		t.Fatalf("declared pool: %+v %v", p, err)
	}
	tok, err := c.GetOpenIdTokenForDeveloperIdentity(ctx, &ci.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(examplePool), Logins: map[string]string{"login.example": "user1"}})
	if err != nil || aws.ToString(tok.IdentityId) != exampleIdentity {
		t.Fatalf("user1's declared identity: %+v %v", tok, err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	url, stop = serveInit(t, db, exampleFile(t), false)
	c = clientFor(url)
	list, err := c.ListIdentityPools(ctx, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil || len(list.IdentityPools) != 1 {
		t.Fatalf("after a second start: %+v %v", list, err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("IdentityPools:\n  - IdentityPoolName: x\n    AllowUnauthenticatedIdentities: true\n    SupportedLoginProviders: {example.com: x}\n"), 0o600)
	_, stop = serveInit(t, db, bad, false)
	err = stop()
	if err == nil || !strings.Contains(err.Error(), bad+":4: IdentityPools[0].SupportedLoginProviders") {
		t.Fatalf("a wrong file: %v", err)
	}
}

func postReset(t *testing.T, url, keyID, secret string) rawResp {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/fedid/reset", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if keyID != "" {
		sign(t, req, "{}", keyID, secret, "cognito-identity", time.Now())
	}
	return do(t, req)
}

// TestDevReset: POST /fedid/reset, signed, empties the store but for its
// access keys and applies the file again; unsigned or badly signed it
// changes nothing; without --dev it does not exist.
func TestDevReset(t *testing.T) {
	url, _ := serveInit(t, initDB(t), exampleFile(t), true)
	c := clientFor(url)
	ctx := context.Background()
	made, err := c.CreateIdentityPool(ctx, &ci.CreateIdentityPoolInput{IdentityPoolName: aws.String("made"), AllowUnauthenticatedIdentities: true})
	if err != nil {
		t.Fatal(err)
	}
	// user3 gets a new identity in the declared pool.
	if _, err := c.GetOpenIdTokenForDeveloperIdentity(ctx, &ci.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(examplePool), Logins: map[string]string{"login.example": "user3"}}); err != nil {
		t.Fatal(err)
	}
	if r := postReset(t, url, "", ""); r.Status != 400 || r.Type != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned reset: %d %s", r.Status, r.Type)
	}
	if r := postReset(t, url, "test", "wrong"); r.Status != 400 || r.Type != "InvalidSignatureException" {
		t.Fatalf("badly signed reset: %d %s", r.Status, r.Type)
	}
	if _, err := c.DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: made.IdentityPoolId}); err != nil {
		t.Fatalf("a refused reset changed something: %v", err)
	}
	if r := postReset(t, url, "test", "test"); r.Status != 200 || !strings.Contains(string(r.Body), `"Reset":true`) {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	if _, err := c.DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: made.IdentityPoolId}); errorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("the pool made through the API survived the reset: %v", err)
	}
	list, err := c.ListIdentities(ctx, &ci.ListIdentitiesInput{IdentityPoolId: aws.String(examplePool), MaxResults: aws.Int32(60)})
	if err != nil || len(list.Identities) != 2 {
		t.Fatalf("the declared pool after the reset (user1 and user2 only): %+v %v", list, err)
	}
	tok, err := c.GetOpenIdTokenForDeveloperIdentity(ctx, &ci.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(examplePool), Logins: map[string]string{"login.example": "user1"}})
	if err != nil || aws.ToString(tok.IdentityId) != exampleIdentity {
		t.Fatalf("user1 after the reset: %+v %v", tok, err)
	}

	plain, _ := serveInit(t, initDB(t), "", false)
	if r := postReset(t, plain, "test", "test"); r.Status != 404 {
		t.Fatalf("reset without --dev: %d %s", r.Status, r.Body)
	}
}

// TestInitFileAccessKey: a key the file declares signs requests for its
// account from the first start.
func TestInitFileAccessKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys.yaml")
	os.WriteFile(file, []byte(`AccessKeys:
  - {AccessKeyId: AKIADECLAREDKEY00001, SecretAccessKey: declared-secret-0001, Account: "123456789012"}
IdentityPools:
  - {Account: "123456789012", IdentityPoolName: theirs, AllowUnauthenticatedIdentities: true}
`), 0o600)
	url, _ := serveInit(t, initDB(t), file, false)
	c := (&server{URL: url}).client("AKIADECLAREDKEY00001", "declared-secret-0001", "us-east-1")
	list, err := c.ListIdentityPools(context.Background(), &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil || len(list.IdentityPools) != 1 || aws.ToString(list.IdentityPools[0].IdentityPoolName) != "theirs" {
		t.Fatalf("the declared key's account: %+v %v", list, err)
	}
}
