package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/awsquery"
	"github.com/fedid/fedid/internal/credentials"
	"github.com/fedid/fedid/internal/federation"
	"github.com/fedid/fedid/internal/identity"
	"github.com/fedid/fedid/internal/keys"
	"github.com/fedid/fedid/internal/oidc"
	"github.com/fedid/fedid/internal/sigv4"
	"github.com/fedid/fedid/internal/store/sqlite"
)

// fuzzServer is one whole handler over a real SQLite store, shared by the
// iterations of a fuzz target (fuzzing forks workers; each builds its own).
var fuzzServer = sync.OnceValues(func() (*Server, error) {
	ctx := context.Background()
	dir, err := osMkdirTemp()
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "fuzz.db"))
	if err != nil {
		return nil, err
	}
	clock := fedid.SystemClock{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	km := keys.NewManager(st, clock, keys.Options{Region: "us-east-1", Logger: log})
	if err := km.Init(ctx); err != nil {
		return nil, err
	}
	svc := identity.New(identity.Deps{Store: st, Signer: km, Clock: clock,
		Logins: federation.New(federation.Config{}, st, clock), Credentials: credentials.NewLocal(st, clock, time.Hour)},
		identity.Config{Issuer: "http://fuzz.example"})
	lookup := func(_ context.Context, id string) (*fedid.Credential, error) {
		if id == "test" {
			return &fedid.Credential{Secret: "test", Account: fedid.DefaultAccountID, ARN: "arn:aws:iam::000000000000:root"}, nil
		}
		return nil, fedid.ErrNotFound
	}
	return New(Config{
		Service:  svc,
		Verifier: sigv4.NewVerifier("cognito-identity", lookup, clock),
		Query: &awsquery.Handler{STS: sigv4.NewVerifier("sts", lookup, clock), IAM: sigv4.NewVerifier("iam", lookup, clock),
			Providers: st, Log: log},
		Sessions: st,
		OIDC:     oidc.NewHandler("http://fuzz.example", km),
		Logger:   log,
	}), nil
})

// checkAnswer asserts what every request gets: no 5xx but 501, and a
// bounded answer (no header value over 1 KiB but the ones fedid sets
// from its own data, no body over 64 KiB).
func checkAnswer(t *testing.T, req []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
		t.Fatalf("%q: %d %s", req, rec.Code, rec.Body.Bytes())
	}
	if rec.Body.Len() > 64<<10 {
		t.Fatalf("%q: a body of %d bytes", req, rec.Body.Len())
	}
	for name, vs := range rec.Header() {
		for _, v := range vs {
			if len(v) > 1024 {
				t.Fatalf("%q: header %s of %d bytes", req, name, len(v))
			}
		}
	}
}

// FuzzHandlerRaw feeds raw bytes, request line, headers and body, to the
// whole handler: whatever net/http parses must never panic, 5xx or answer
// without bound.
func FuzzHandlerRaw(f *testing.F) {
	for _, s := range []string{
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: AWSCognitoIdentityService.GetId\r\nContent-Length: 64\r\n\r\n{\"IdentityPoolId\":\"us-east-1:00000000-0000-0000-0000-000000000000\"}",
		"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSCognitoIdentityService.GetOpenIdToken\r\nContent-Length: 41\r\n\r\n{\"IdentityId\":\"us-east-1:x\",\"Logins\":{}}",
		"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSCognitoIdentityService.ListIdentityPools\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/cognito-identity/aws4_request, SignedHeaders=host;x-amz-target, Signature=00\r\nContent-Length: 2\r\n\r\n{}",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 43\r\n\r\nAction=GetCallerIdentity&Version=2011-06-15",
		"OPTIONS / HTTP/1.1\r\nHost: x\r\nAccess-Control-Request-Headers: x-amz-target\r\n\r\n",
		"GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /fedid/describe-credentials HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
		"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSCognitoIdentityService.GetId\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, err := fuzzServer()
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return // net/http answers 400 itself
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, raw, rec)
	})
}

// FuzzHandlerSigned reaches every operation's decoder and rules with any
// body: the harness signs what the fuzzer makes with the test key.
func FuzzHandlerSigned(f *testing.F) {
	for i, s := range []string{
		`{}`, `{"IdentityPoolName":"p","AllowUnauthenticatedIdentities":true,"DeveloperProviderName":"d","IdentityPoolTags":{"k":"v"}}`,
		`{"IdentityPoolId":"us-east-1:00000000-0000-0000-0000-000000000000","Logins":{"d":"u"}}`,
		`{"MaxResults":5,"NextToken":"x"}`, `{"IdentityIdsToDelete":["us-east-1:00000000-0000-0000-0000-000000000000"]}`,
		`{"IdentityPoolId":"us-east-1:00000000-0000-0000-0000-000000000000","Roles":{"authenticated":"arn:aws:iam::000000000000:role/a"},"RoleMappings":{"p":{"Type":"Rules","AmbiguousRoleResolution":"Deny","RulesConfiguration":{"Rules":[{"Claim":"c","MatchType":"Equals","Value":"v","RoleARN":"arn:aws:iam::000000000000:role/a"}]}}}}`,
	} {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		h, err := fuzzServer()
		if err != nil {
			t.Fatal(err)
		}
		name := OperationNames[int(op)%len(OperationNames)]
		req := httptest.NewRequest(http.MethodPost, "http://fuzz.example/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+name)
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"},
			req, hex.EncodeToString(sum[:]), "cognito-identity", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, []byte(name+" "+string(body)), rec)
		if rec.Code == http.StatusOK && !strings.HasPrefix(rec.Body.String(), "{") {
			t.Fatalf("%s %q: 200 with %q", name, body, rec.Body.String())
		}
	})
}

// osMkdirTemp makes the fuzz store's folder; fuzz workers outlive a
// t.TempDir, so it is removed with the machine's temporary files.
func osMkdirTemp() (string, error) { return os.MkdirTemp("", "fedid-fuzz-") }
