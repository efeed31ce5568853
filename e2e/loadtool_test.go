package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fedid/fedid/internal/bench"
)

// TestLoadTool runs `fedid bench`'s engine briefly against a real server,
// with wrong credentials, and against a fake endpoint whose fast answers
// carry tokens that do not verify.
func TestLoadTool(t *testing.T) {
	s := start(t, startOpts{})
	ctx := context.Background()
	cfg := bench.Config{Endpoint: s.URL, Region: "us-east-1", AccessKey: "test", Secret: "test", Concurrency: 4,
		Requests: 400, Users: 20, VerifyEvery: 10, Mix: map[string]int{"known": 70, "new": 10, "getid": 10, "lookup": 10}}
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 400 || res.Errors != 0 || res.TokensChecked == 0 || res.TokensBad != 0 || res.Latency.P50 <= 0 ||
		res.Latency.Max < res.Latency.P99 || res.PerOperation["known"] == 0 || res.PerOperation["lookup"] == 0 {
		t.Fatalf("run %+v", res)
	}

	// The pool exists now; wrong credentials are counted by error code.
	bad := cfg
	bad.Pool, bad.Secret, bad.Users, bad.Requests = res.Pool, "wrong", -20, 20
	bad.Mix = map[string]int{"known": 1, "lookup": 1} // signed operations; GetId is not
	res, err = bench.Run(ctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 20 || res.ErrorsByCode["InvalidSignatureException"] != 20 {
		t.Fatalf("wrong secret: %+v", res)
	}
	// A setup that fails says why: the endpoint's code and message.
	noPool := cfg
	noPool.Secret = "wrong"
	if _, err := bench.Run(ctx, noPool); err == nil || !strings.Contains(err.Error(), "create pool: InvalidSignatureException: The request signature we calculated") {
		t.Fatalf("setup with a wrong secret: %v", err)
	}

	// A fast endpoint with forged tokens does not pass.
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/jwks_uri" {
			w.Write([]byte(`{"keys":[]}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"IdentityId": "us-east-1:x", "IdentityPoolId": "us-east-1:p",
			"Token": "eyJhbGciOiJSUzUxMiIsImtpZCI6ImsifQ.e30.c2ln"})
	}))
	defer fake.Close()
	res, err = bench.Run(ctx, bench.Config{Endpoint: fake.URL, Region: "us-east-1", AccessKey: "k", Secret: "s",
		Concurrency: 2, Duration: 300 * time.Millisecond, Users: 2, VerifyEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.TokensChecked == 0 || res.TokensBad != res.TokensChecked {
		t.Fatalf("forged tokens: %d checked, %d failed", res.TokensChecked, res.TokensBad)
	}

	raw, err := bench.RawSign(200*time.Millisecond, 2, false)
	if err != nil || raw.Signatures == 0 || raw.PerSecond <= 0 {
		t.Fatalf("raw sign %+v %v", raw, err)
	}
}
