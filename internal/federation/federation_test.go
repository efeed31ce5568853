package federation

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/fedid/fedid"
)

// now is the tests' fixed clock, years away from the real time: a check
// that read time.Now instead of the injected clock would fail them.
var now = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// issuer is a local OpenID Connect provider: discovery document and JWKS,
// tokens signed with go-jose.
type issuer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    []jose.JSONWebKey // private, the last one signs
	fetches atomic.Int64
	status  atomic.Int64  // answer of every request when not 0
	delay   atomic.Int64  // ns every request waits
	unblock chan struct{} // closed at cleanup so slow handlers return
}

func newIssuer(tb testing.TB) *issuer {
	tb.Helper()
	is := &issuer{unblock: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if is.hold(w) {
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"issuer": is.url(), "jwks_uri": is.url() + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		if is.hold(w) {
			return
		}
		is.fetches.Add(1)
		json.NewEncoder(w).Encode(is.jwks())
	})
	is.srv = httptest.NewServer(mux)
	tb.Cleanup(func() { close(is.unblock); is.srv.Close() })
	is.addKey(tb, "k1", false)
	return is
}

// hold applies the configured outage; true when it answered.
func (is *issuer) hold(w http.ResponseWriter) bool {
	if d := time.Duration(is.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-is.unblock:
		}
	}
	if s := is.status.Load(); s != 0 {
		http.Error(w, "down", int(s))
		return true
	}
	return false
}

func (is *issuer) url() string { return is.srv.URL }

// addKey makes a new signing key current; the old ones stay published.
func (is *issuer) addKey(tb testing.TB, kid string, ec bool) {
	tb.Helper()
	is.publish(newKey(tb, kid, ec))
}

func (is *issuer) publish(k jose.JSONWebKey) {
	is.mu.Lock()
	is.keys = append(is.keys, k)
	is.mu.Unlock()
}

func newKey(tb testing.TB, kid string, ec bool) jose.JSONWebKey {
	tb.Helper()
	k := jose.JSONWebKey{KeyID: kid, Use: "sig", Algorithm: string(jose.RS256)}
	if ec {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		k.Key, k.Algorithm = key, string(jose.ES256)
	} else {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tb.Fatal(err)
		}
		k.Key = key
	}
	return k
}

func (is *issuer) jwks() jose.JSONWebKeySet {
	is.mu.Lock()
	defer is.mu.Unlock()
	var set jose.JSONWebKeySet
	for _, k := range is.keys {
		set.Keys = append(set.Keys, k.Public())
	}
	return set
}

func (is *issuer) current() jose.JSONWebKey {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.keys[len(is.keys)-1]
}

// token signs claims with the current key; iss, iat and exp (an hour after
// the fixed clock) are filled in unless given, nil values are dropped.
func (is *issuer) token(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	k := is.current()
	return sign(tb, jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm), Key: k}, is.claims(claims))
}

func (is *issuer) claims(extra map[string]any) map[string]any {
	c := map[string]any{"iss": is.url(), "sub": "alice", "aud": "app", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

func sign(tb testing.TB, key jose.SigningKey, claims map[string]any) string {
	tb.Helper()
	s, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		tb.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

type providers map[string]*fedid.OIDCProvider

func (p providers) GetOIDCProvider(_ context.Context, arn string) (*fedid.OIDCProvider, error) {
	if op, ok := p[arn]; ok {
		return op, nil
	}
	return nil, fedid.ErrNotFound
}

// oidcPool registers is as an OIDC provider (mod may pin keys or name a
// JWKS URL) and returns the pool trusting it and the logins key.
func oidcPool(is *issuer, mod func(*fedid.OIDCProvider)) (providers, *fedid.Pool, string) {
	name := fedid.OIDCProviderName(is.url())
	arn := "arn:aws:iam::000000000000:oidc-provider/" + name
	p := &fedid.OIDCProvider{ARN: arn, Account: "000000000000", URL: is.url(), ClientIDs: []string{"app", "other-app"}}
	if mod != nil {
		mod(p)
	}
	return providers{arn: p}, &fedid.Pool{OpenIDConnectProviderARNs: []string{arn}}, name
}

func testConfig() Config {
	return Config{Timeout: 500 * time.Millisecond, MinRefresh: 10 * time.Millisecond}
}

// wantErr checks a refusal's kind and message prefix.
func wantErr(tb testing.TB, err error, kind fedid.Kind, msg string) {
	tb.Helper()
	var fe *fedid.Error
	if !errors.As(err, &fe) {
		tb.Fatalf("error %v, want %v %q", err, kind, msg)
	}
	if fe.Kind != kind || !strings.HasPrefix(fe.Message, msg) {
		tb.Fatalf("error %v %q, want %v %q", fe.Kind, fe.Message, kind, msg)
	}
}

func TestVerifyLogin(t *testing.T) {
	is := newIssuer(t)
	st, pool, name := oidcPool(is, nil)
	c := New(testConfig(), st, fixedClock{now})
	hmac := jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}
	intruder := newIssuer(t) // other keys under the same kid

	for _, tc := range []struct {
		name  string
		token string
		kind  fedid.Kind // 0: accepted
		msg   string
	}{
		{"valid", is.token(t, nil), 0, ""},
		{"aud list", is.token(t, map[string]any{"aud": []string{"x", "other-app"}}), 0, ""},
		{"azp accepted", is.token(t, map[string]any{"aud": "x", "azp": "app"}), 0, ""},
		{"host-form issuer", is.token(t, map[string]any{"iss": name}), 0, ""},
		{"expired within grace", is.token(t, map[string]any{"exp": now.Add(-4 * time.Minute).Unix()}), 0, ""},
		{"nbf within grace", is.token(t, map[string]any{"nbf": now.Add(4 * time.Minute).Unix()}), 0, ""},
		{"wrong audience", is.token(t, map[string]any{"aud": "someone-else"}),
			fedid.KindNotAuthorized, "Token is not from a supported provider of this identity pool."},
		{"azp not a client", is.token(t, map[string]any{"aud": "app", "azp": "someone-else"}),
			fedid.KindNotAuthorized, "Token is not from a supported provider of this identity pool."},
		{"expired beyond grace", is.token(t, map[string]any{"exp": now.Add(-6 * time.Minute).Unix()}),
			fedid.KindNotAuthorized, "Invalid login token. Token expired: "},
		{"not yet valid", is.token(t, map[string]any{"nbf": now.Add(6 * time.Minute).Unix()}),
			fedid.KindNotAuthorized, "Invalid login token. Token is not valid yet"},
		{"no exp", is.token(t, map[string]any{"exp": nil}), fedid.KindNotAuthorized, "Invalid login token. Missing a required claim: exp"},
		{"no sub", is.token(t, map[string]any{"sub": nil}), fedid.KindNotAuthorized, "Invalid login token. Missing a required claim: sub"},
		{"exp not a number", is.token(t, map[string]any{"exp": "tomorrow"}),
			fedid.KindNotAuthorized, "Invalid login token. Missing a required claim: exp"},
		{"aud not a string", is.token(t, map[string]any{"aud": 7}),
			fedid.KindNotAuthorized, "Invalid login token. Missing a required claim: aud"},
		{"no aud", is.token(t, map[string]any{"aud": nil}), fedid.KindNotAuthorized, "Invalid login token. Missing a required claim: aud"},
		{"wrong issuer", is.token(t, map[string]any{"iss": "https://evil.example"}),
			fedid.KindNotAuthorized, "Invalid login token. Issuer doesn't match providerName"},
		{"wrong signature", intruder.token(t, map[string]any{"iss": is.url()}),
			fedid.KindNotAuthorized, "Invalid login token. Token signature is invalid."},
		{"alg none", "eyJhbGciOiJub25lIn0." + b64json(t, is.claims(nil)) + ".",
			fedid.KindNotAuthorized, `Invalid login token. Token signing algorithm "none" is not supported.`},
		{"HS256", sign(t, hmac, is.claims(nil)),
			fedid.KindNotAuthorized, `Invalid login token. Token signing algorithm "HS256" is not supported.`},
		{"not a JWT", "not-a-token", fedid.KindNotAuthorized, "Invalid login token. Not a valid OpenId Connect identity token."},
		{"JWS JSON serialization", `{"payload":"e30","signatures":[]}`,
			fedid.KindNotAuthorized, "Invalid login token. Not a valid OpenId Connect identity token."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.VerifyLogin(context.Background(), pool, name, tc.token)
			if tc.kind != 0 {
				wantErr(t, err, tc.kind, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Key != "alice" || got.Provider != name || !strings.HasSuffix(got.Detail, ":OIDC:alice") {
				t.Fatalf("login %+v", got)
			}
			if got.Claims["sub"] != "alice" {
				t.Fatalf("claims %v", got.Claims)
			}
		})
	}
}

func b64json(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestClientIDAndDetail(t *testing.T) {
	is := newIssuer(t)
	st, pool, name := oidcPool(is, nil)
	c := New(testConfig(), st, fixedClock{now})
	got, err := c.VerifyLogin(context.Background(), pool, name, is.token(t, map[string]any{"aud": []string{"x", "other-app"}, "custom": 7}))
	if err != nil {
		t.Fatal(err)
	}
	arn := pool.OpenIDConnectProviderARNs[0]
	if got.ClientID != "other-app" || got.Detail != arn+":OIDC:alice" {
		t.Fatalf("login %+v", got)
	}
	if got.Claims["custom"] != float64(7) {
		t.Fatalf("claims %#v", got.Claims)
	}
}

func TestKeyRotation(t *testing.T) {
	is := newIssuer(t)
	st, pool, name := oidcPool(is, nil)
	cfg := testConfig()
	cfg.MinRefresh = time.Second
	c := New(cfg, st, fixedClock{now})
	ctx := context.Background()
	verify := func(tok string) error {
		_, err := c.VerifyLogin(ctx, pool, name, tok)
		return err
	}
	if err := verify(is.token(t, nil)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(cfg.MinRefresh) // past MinRefresh: the cached keys are RemoteKeySet's
	for range 3 {
		if err := verify(is.token(t, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if n := is.fetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches for one key, want 1", n)
	}

	// The provider rotates to a key fedid has not seen: one refetch, and
	// tokens under the new kid pass.
	k3 := newKey(t, "k3", false) // made now: the steps below must fit in MinRefresh
	is.addKey(t, "k2", true)
	if err := verify(is.token(t, nil)); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if n := is.fetches.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches after rotation, want 2", n)
	}

	// Right after that fetch, a token naming another unknown kid is refused
	// without a fetch: forged kids cannot make fedid hammer the provider.
	is.publish(k3)
	wantErr(t, verify(is.token(t, nil)), fedid.KindNotAuthorized, "Invalid login token. Token signature is invalid.")
	if n := is.fetches.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches within MinRefresh, want 2", n)
	}
	// Once MinRefresh has passed, the new key is fetched and accepted.
	time.Sleep(cfg.MinRefresh)
	if err := verify(is.token(t, nil)); err != nil {
		t.Fatalf("after MinRefresh: %v", err)
	}
	if n := is.fetches.Load(); n != 3 {
		t.Fatalf("%d JWKS fetches, want 3", n)
	}
}

func TestUnreachableProvider(t *testing.T) {
	for _, tc := range []struct {
		name   string
		outage func(is *issuer)
	}{
		{"down", func(is *issuer) { is.srv.Close() }},
		{"HTTP 500", func(is *issuer) { is.status.Store(http.StatusInternalServerError) }},
		{"too slow", func(is *issuer) { is.delay.Store(int64(5 * time.Second)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := newIssuer(t)
			st, pool, name := oidcPool(is, nil)
			c := New(testConfig(), st, fixedClock{now})
			tok := is.token(t, nil)
			tc.outage(is)
			t0 := time.Now()
			_, err := c.VerifyLogin(context.Background(), pool, name, tok)
			wantErr(t, err, fedid.KindExternalService, name+" is not responding")
			if d := time.Since(t0); d > 2*time.Second {
				t.Fatalf("took %v, the timeout is %v", d, testConfig().Timeout)
			}
		})
	}
}

// TestUnreachableJWKS: discovery answers, the key set does not.
func TestUnreachableJWKS(t *testing.T) {
	is := newIssuer(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	st, pool, name := oidcPool(is, func(p *fedid.OIDCProvider) { p.JWKSURL = down.URL + "/keys" })
	c := New(testConfig(), st, fixedClock{now})
	_, err := c.VerifyLogin(context.Background(), pool, name, is.token(t, nil))
	wantErr(t, err, fedid.KindExternalService, name+" is not responding")
}

func TestConfiguredJWKSURL(t *testing.T) {
	is := newIssuer(t)
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(is.jwks())
	}))
	defer keys.Close()
	is.status.Store(http.StatusServiceUnavailable) // discovery must not be needed
	st, pool, name := oidcPool(is, func(p *fedid.OIDCProvider) { p.JWKSURL = keys.URL })
	c := New(testConfig(), st, fixedClock{now})
	if _, err := c.VerifyLogin(context.Background(), pool, name, is.token(t, nil)); err != nil {
		t.Fatal(err)
	}
}

func TestPinnedKeys(t *testing.T) {
	is := newIssuer(t)
	is.addKey(t, "k2", true)
	pinned, err := json.Marshal(is.jwks())
	if err != nil {
		t.Fatal(err)
	}
	st, pool, name := oidcPool(is, func(p *fedid.OIDCProvider) { p.JWKS = pinned })
	c := New(testConfig(), st, fixedClock{now})
	ctx := context.Background()
	is.srv.Close() // nothing is fetched

	if _, err := c.VerifyLogin(ctx, pool, name, is.token(t, nil)); err != nil {
		t.Fatalf("pinned EC key: %v", err)
	}
	first := is.keys[0]
	if _, err := c.VerifyLogin(ctx, pool, name, sign(t, jose.SigningKey{Algorithm: jose.RS256, Key: first}, is.claims(nil))); err != nil {
		t.Fatalf("pinned RSA key: %v", err)
	}
	is.addKey(t, "k3", false) // not pinned
	wantErr(t, func() error { _, err := c.VerifyLogin(ctx, pool, name, is.token(t, nil)); return err }(),
		fedid.KindNotAuthorized, "Invalid login token. Token signature is invalid.")
	// A pinned kid on another key's signature.
	renamed := is.current()
	renamed.KeyID = "k1"
	wantErr(t, func() error {
		_, err := c.VerifyLogin(ctx, pool, name, sign(t, jose.SigningKey{Algorithm: jose.RS256, Key: renamed}, is.claims(nil)))
		return err
	}(), fedid.KindNotAuthorized, "Invalid login token. Token signature is invalid.")
}

func TestUserPool(t *testing.T) {
	is := newIssuer(t)
	const poolID = "us-east-1_Ab12Cd34E"
	up := http.NewServeMux()
	up.HandleFunc("/"+poolID+"/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(is.jwks())
	})
	srv := httptest.NewServer(up)
	defer srv.Close()
	name := "cognito-idp.us-east-1.amazonaws.com/" + poolID
	pool := &fedid.Pool{CognitoIdentityProviders: []fedid.CognitoProvider{{ProviderName: name, ClientID: "upclient"}}}
	cfg := testConfig()
	cfg.CognitoIdPEndpoint = srv.URL + "/"
	c := New(cfg, providers{}, fixedClock{now})
	tok := func(use string) string {
		return is.token(t, map[string]any{"iss": srv.URL + "/" + poolID, "aud": "upclient", "token_use": use})
	}
	got, err := c.VerifyLogin(context.Background(), pool, name, tok("id"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Detail != name+":CognitoSignIn:alice" || got.ClientID != "upclient" {
		t.Fatalf("login %+v", got)
	}
	_, err = c.VerifyLogin(context.Background(), pool, name, tok("access"))
	wantErr(t, err, fedid.KindNotAuthorized, "Invalid login token. Missing a required claim: aud")
}

func TestSocialIssuer(t *testing.T) {
	is := newIssuer(t)
	cfg := testConfig()
	cfg.SocialIssuers = map[string]string{"accounts.google.com": is.url() + "/"}
	c := New(cfg, providers{}, fixedClock{now})
	pool := &fedid.Pool{SupportedLoginProviders: map[string]string{"accounts.google.com": "x;gclient"}}
	got, err := c.VerifyLogin(context.Background(), pool, "accounts.google.com", is.token(t, map[string]any{"aud": "gclient"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := "accounts.google.com:gclient:alice"; got.Detail != want {
		t.Fatalf("detail %q, want %q", got.Detail, want)
	}
}

func TestUnknownProviders(t *testing.T) {
	c := New(testConfig(), providers{}, fixedClock{now})
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		pool     *fedid.Pool
		provider string
		kind     fedid.Kind
	}{
		{"not trusted", &fedid.Pool{}, "login.example.com", fedid.KindNotAuthorized},
		{"unregistered OIDC", &fedid.Pool{OpenIDConnectProviderARNs: []string{"arn:aws:iam::000000000000:oidc-provider/login.example.com"}},
			"login.example.com", fedid.KindNotAuthorized},
		{"unregistered SAML", &fedid.Pool{SAMLProviderARNs: []string{"arn:aws:iam::000000000000:saml-provider/x"}},
			"arn:aws:iam::000000000000:saml-provider/x", fedid.KindNotAuthorized},
		{"Digits", &fedid.Pool{SupportedLoginProviders: map[string]string{"www.digits.com": "1"}}, "www.digits.com", fedid.KindNotAuthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.VerifyLogin(ctx, tc.pool, tc.provider, "x.y.z")
			wantErr(t, err, tc.kind, "")
		})
	}
}

// TestFetchedKeyPolicy: of a fetched key set, only signing keys of safe
// size sign tokens fedid accepts; keys older than maxKeyAge are fetched
// again, so a key the provider withdrew stops working, and while the
// provider is down the held keys go on serving.
func TestFetchedKeyPolicy(t *testing.T) {
	ctx := context.Background()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []jose.JSONWebKey{
		{KeyID: "weak", Use: "sig", Algorithm: string(jose.RS256), Key: weak},
		func() jose.JSONWebKey { k := newKey(t, "enc", false); k.Use = "enc"; return k }(),
	} {
		is := newIssuer(t)
		is.publish(k)
		st, pool, name := oidcPool(is, nil)
		c := New(testConfig(), st, fixedClock{now})
		_, err := c.VerifyLogin(ctx, pool, name, is.token(t, nil))
		wantErr(t, err, fedid.KindNotAuthorized, "Invalid login token.")
	}

	is := newIssuer(t)
	st, pool, name := oidcPool(is, nil)
	c := New(testConfig(), st, fixedClock{now})
	withdrawn := is.token(t, nil) // signed with k1
	if _, err := c.VerifyLogin(ctx, pool, name, withdrawn); err != nil {
		t.Fatal(err)
	}
	age := func(d time.Duration) { // the held keys were fetched d ago
		for _, rk := range c.keys.sets {
			rk.mu.Lock()
			rk.at = time.Now().Add(-d)
			rk.mu.Unlock()
		}
	}
	// The provider withdraws k1 for k2. Within maxKeyAge the held k1 still
	// verifies (as a cache must); the provider down past maxKeyAge, too.
	is.mu.Lock()
	is.keys = nil
	is.mu.Unlock()
	is.addKey(t, "k2", false)
	age(maxKeyAge / 2)
	if _, err := c.VerifyLogin(ctx, pool, name, withdrawn); err != nil {
		t.Fatalf("within maxKeyAge: %v", err)
	}
	is.status.Store(http.StatusServiceUnavailable)
	age(maxKeyAge + time.Minute)
	if _, err := c.VerifyLogin(ctx, pool, name, withdrawn); err != nil {
		t.Fatalf("provider down past maxKeyAge, held keys: %v", err)
	}
	// The provider back: the stale keys are fetched again and k1 is gone.
	is.status.Store(0)
	age(maxKeyAge + time.Minute)
	_, err = c.VerifyLogin(ctx, pool, name, withdrawn)
	wantErr(t, err, fedid.KindNotAuthorized, "Invalid login token.")
	if _, err := c.VerifyLogin(ctx, pool, name, is.token(t, nil)); err != nil {
		t.Fatalf("the new key: %v", err)
	}
}
