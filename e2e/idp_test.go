package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/app"
)

// idp is an OpenID Connect issuer of the tests' own, in-process: discovery
// document and JWKS under prefix, tokens signed with go-jose.
type idp struct {
	srv    *httptest.Server
	prefix string

	mu      sync.Mutex
	signer  jose.Signer
	public  []jose.JSONWebKey
	kid     int
	fetches atomic.Int64
	delay   atomic.Int64 // ns each request waits (an outage)
}

func newIDP(tb testing.TB, prefix string) *idp {
	tb.Helper()
	p := &idp{prefix: prefix}
	mux := http.NewServeMux()
	mux.HandleFunc(prefix+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.wait()
		json.NewEncoder(w).Encode(map[string]string{"issuer": p.Issuer(), "jwks_uri": p.Issuer() + "/.well-known/jwks.json"})
	})
	mux.HandleFunc(prefix+"/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		p.wait()
		p.fetches.Add(1)
		p.mu.Lock()
		set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), p.public...)}
		p.mu.Unlock()
		json.NewEncoder(w).Encode(set)
	})
	p.srv = httptest.NewServer(mux)
	tb.Cleanup(p.srv.Close)
	p.rotate(tb, false)
	return p
}

func (p *idp) wait() {
	if d := time.Duration(p.delay.Load()); d > 0 {
		time.Sleep(d)
	}
}

// Issuer is the iss of this provider's tokens.
func (p *idp) Issuer() string { return p.srv.URL + p.prefix }

// Name is the logins key of the provider (the issuer without scheme).
func (p *idp) Name() string { return fedid.OIDCProviderName(p.Issuer()) }

// rotate makes a new signing key (RSA, or EC with ec) current; the old
// keys stay published.
func (p *idp) rotate(tb testing.TB, ec bool) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kid++
	var key any
	alg := jose.RS256
	var pub any
	if ec {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		key, pub, alg = k, &k.PublicKey, jose.ES256
	} else {
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		key, pub = k, &k.PublicKey
	}
	kid := "test-key-" + string(rune('0'+p.kid))
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		tb.Fatal(err)
	}
	p.signer = s
	p.public = append(p.public, jose.JSONWebKey{Key: pub, KeyID: kid, Use: "sig", Algorithm: string(alg)})
}

// token signs claims; iss, iat and exp are filled in unless given.
func (p *idp) token(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	c := map[string]any{"iss": p.Issuer(), "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	b, _ := json.Marshal(c)
	p.mu.Lock()
	s := p.signer
	p.mu.Unlock()
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

// registerProvider stores an OIDC provider in the server's database, as
// `fedid oidc-providers add` does.
func registerProvider(tb testing.TB, s *server, account, issuer string, clients ...string) string {
	tb.Helper()
	ctx := context.Background()
	st, err := app.OpenStore(ctx, s.DB, storeOpts()...)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	p, err := app.ProviderSpec{Account: account, URL: issuer, ClientIDs: clients}.Provider(time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.PutOIDCProvider(ctx, p); err != nil {
		tb.Fatal(err)
	}
	return p.ARN
}
