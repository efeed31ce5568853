package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/keys"
	"github.com/fedid/fedid/internal/store/sqlite"
)

const issuer = "https://fedid.example.com"

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// newManager returns a key manager on a fresh SQLite store, its clock at t0.
func newManager(tb testing.TB, period time.Duration) (*keys.Manager, *clock) {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "fedid.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	c := &clock{t: t0}
	m := keys.NewManager(st, c, keys.Options{Region: "us-east-1", RotationPeriod: period})
	if err := m.Init(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return m, c
}

func get(tb testing.TB, h http.Handler, method, path string) *httptest.ResponseRecorder {
	tb.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w
}

func TestDiscovery(t *testing.T) {
	m, _ := newManager(t, 0)
	w := get(t, NewHandler(issuer, m), http.MethodGet, "/.well-known/openid-configuration")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	for k, v := range map[string]string{
		"Content-Type": "application/json", "Cache-Control": "public, max-age=3600",
		"Access-Control-Allow-Origin": "*", "Content-Length": strconv.Itoa(w.Body.Len()),
	} {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	var doc struct {
		Issuer        string   `json:"issuer"`
		JWKSURI       string   `json:"jwks_uri"`
		ResponseTypes []string `json:"response_types_supported"`
		SubjectTypes  []string `json:"subject_types_supported"`
		Algs          []string `json:"id_token_signing_alg_values_supported"`
		Claims        []string `json:"claims_supported"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Issuer != issuer || doc.JWKSURI != issuer+"/.well-known/jwks_uri" {
		t.Errorf("issuer %q jwks_uri %q", doc.Issuer, doc.JWKSURI)
	}
	if !slices.Equal(doc.Algs, []string{"RS512"}) || !slices.Equal(doc.ResponseTypes, []string{"id_token"}) ||
		!slices.Equal(doc.SubjectTypes, []string{"public"}) {
		t.Errorf("algs %v response types %v subject types %v", doc.Algs, doc.ResponseTypes, doc.SubjectTypes)
	}
	for _, c := range []string{"sub", "aud", "amr", "iss", "exp", "iat"} {
		if !slices.Contains(doc.Claims, c) {
			t.Errorf("claims_supported %v lacks %q", doc.Claims, c)
		}
	}
}

// TestJWKS: both paths serve the manager's key set, and a token the
// manager mints verifies with go-jose against what is served.
func TestJWKS(t *testing.T) {
	m, _ := newManager(t, 0)
	h := NewHandler(issuer, m)
	token, err := m.Mint(&fedid.Claims{
		Subject: "us-east-1:11111111-2222-3333-4444-555555555555", Audience: "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
		AMR: []string{"unauthenticated"}, Issuer: issuer, IssuedAt: t0, ExpiresAt: t0.Add(15 * time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/.well-known/jwks_uri", "/.well-known/jwks.json"} {
		t.Run(path, func(t *testing.T) {
			w := get(t, h, http.MethodGet, path)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" ||
				w.Header().Get("Access-Control-Allow-Origin") != "*" || w.Header().Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
				t.Fatalf("status %d headers %v", w.Code, w.Header())
			}
			if w.Body.String() != string(m.JWKS()) {
				t.Errorf("served %s, manager has %s", w.Body, m.JWKS())
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil {
				t.Fatal(err)
			}
			ks := set.Key(m.CurrentKID())
			if len(ks) != 1 || ks[0].Algorithm != "RS512" || ks[0].Use != "sig" || !ks[0].IsPublic() {
				t.Fatalf("current key %q in the served set: %+v", m.CurrentKID(), ks)
			}
			jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS512})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jws.Verify(ks[0]); err != nil {
				t.Errorf("go-jose rejects a minted token against the served JWKS: %v", err)
			}
		})
	}
}

// TestJWKSMaxAge: the JWKS may be cached until the next rotation, at most
// an hour and at least a minute.
func TestJWKSMaxAge(t *testing.T) {
	const period = 24 * time.Hour
	for _, tc := range []struct {
		name    string
		elapsed time.Duration
		want    string
	}{
		{"rotation far off: an hour", 0, "public, max-age=3600"},
		{"rotation in 10 minutes", period - 10*time.Minute, "public, max-age=600"},
		{"rotation in 30 seconds: a minute", period - 30*time.Second, "public, max-age=60"},
		{"rotation overdue: a minute", period + time.Hour, "public, max-age=60"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, c := newManager(t, period)
			c.Add(tc.elapsed)
			h := NewHandler(issuer, m)
			for _, path := range []string{"/.well-known/jwks_uri", "/.well-known/jwks.json"} {
				if got := get(t, h, http.MethodGet, path).Header().Get("Cache-Control"); got != tc.want {
					t.Errorf("%s: Cache-Control %q, want %q", path, got, tc.want)
				}
			}
			// The discovery document's lifetime does not follow the keys.
			if got := get(t, h, http.MethodGet, "/.well-known/openid-configuration").Header().Get("Cache-Control"); got != "public, max-age=3600" {
				t.Errorf("discovery Cache-Control %q", got)
			}
		})
	}
}

func TestMethodsAndPaths(t *testing.T) {
	m, _ := newManager(t, 0)
	h := NewHandler(issuer, m)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodHead, "/.well-known/openid-configuration", 200},
		{http.MethodHead, "/.well-known/jwks_uri", 200},
		{http.MethodHead, "/.well-known/jwks.json", 200},
		{http.MethodPost, "/.well-known/openid-configuration", 405},
		{http.MethodPut, "/.well-known/jwks_uri", 405},
		{http.MethodDelete, "/.well-known/jwks.json", 405},
		{http.MethodOptions, "/.well-known/jwks.json", 405},
		{http.MethodGet, "/.well-known/jwks", 404},
		{http.MethodGet, "/.well-known/openid-configuration/", 404},
		{http.MethodGet, "/.well-known/", 404},
		{http.MethodGet, "/", 404},
		{http.MethodGet, "/jwks.json", 404},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := get(t, h, tc.method, tc.path)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			switch tc.status {
			case 200: // HEAD: the GET's headers, no body
				full := get(t, h, http.MethodGet, tc.path)
				if w.Body.Len() != 0 {
					t.Errorf("HEAD has a body of %d bytes", w.Body.Len())
				}
				if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(full.Body.Len()) || full.Body.Len() == 0 {
					t.Errorf("HEAD Content-Length %q, GET body %d bytes", cl, full.Body.Len())
				}
				if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != full.Header().Get("Cache-Control") {
					t.Errorf("HEAD headers %v differ from GET's %v", w.Header(), full.Header())
				}
			case 405:
				if a := w.Header().Get("Allow"); a != "GET, HEAD" {
					t.Errorf("Allow %q", a)
				}
				if w.Header().Get("Cache-Control") != "" || w.Header().Get("Access-Control-Allow-Origin") != "" {
					t.Errorf("refusal carries the document's headers: %v", w.Header())
				}
			}
		})
	}
}
