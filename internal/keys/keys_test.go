package keys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/fedid/fedid"
)

// memStore serialises UpdateSigningKeys like a database transaction.
type memStore struct {
	mu   sync.Mutex
	keys []fedid.SigningKey
}

func (s *memStore) SigningKeys(context.Context) ([]fedid.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]fedid.SigningKey(nil), s.keys...), nil
}

func (s *memStore) UpdateSigningKeys(_ context.Context, fn func([]fedid.SigningKey) ([]fedid.SigningKey, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := fn(append([]fedid.SigningKey(nil), s.keys...))
	if err != nil {
		return err
	}
	s.keys = next
	return nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func newManager(tb testing.TB, st KeyStore, c fedid.Clock, forceGo bool) *Manager {
	tb.Helper()
	m := NewManager(st, c, Options{Region: "us-east-1", ForceGo: forceGo})
	if err := m.Init(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return m
}

var claims = &fedid.Claims{
	Subject: "us-east-1:11111111-2222-3333-4444-555555555555", Audience: "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
	AMR:           []string{"authenticated", "login.example", "login.example:us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:user \"1\""},
	PrincipalTags: map[string]string{"team": "blue", "a<b": "x\ny"},
	Issuer:        "https://fedid.example.com", PoolARN: "arn:aws:cognito-identity:us-east-1:000000000000:identitypool/us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
	IssuedAt: t0, ExpiresAt: t0.Add(15 * time.Minute),
}

// verifyJOSE checks a token with go-jose against the manager's JWKS bytes.
func verifyJOSE(tb testing.TB, m *Manager, token string) []byte {
	tb.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		tb.Fatalf("JWKS does not parse: %v", err)
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS512})
	if err != nil {
		tb.Fatal(err)
	}
	ks := set.Key(jws.Signatures[0].Header.KeyID)
	if len(ks) != 1 {
		tb.Fatalf("kid %q not in JWKS", jws.Signatures[0].Header.KeyID)
	}
	out, err := jws.Verify(ks[0])
	if err != nil {
		tb.Fatalf("go-jose rejects the token: %v", err)
	}
	return out
}

func TestMintBothBackends(t *testing.T) {
	for _, forceGo := range []bool{false, true} {
		m := newManager(t, &memStore{}, &clock{t: t0}, forceGo)
		name := "openssl"
		if forceGo {
			name = "crypto/rsa"
		}
		t.Run(name, func(t *testing.T) {
			if !forceGo && Backend() == "crypto/rsa" {
				t.Skip("no OpenSSL here (no cgo, no libcrypto or FEDID_SIGNER=go)")
			}
			if _, ok := m.state.Load().current.signer.(*osslSigner); ok == forceGo {
				t.Fatalf("backend: forceGo=%v but signer is %T (Backend %s)", forceGo, m.state.Load().current.signer, Backend())
			}
			tok, err := m.Mint(claims)
			if err != nil {
				t.Fatal(err)
			}
			payload := verifyJOSE(t, m, tok)
			want := `{"sub":"us-east-1:11111111-2222-3333-4444-555555555555","aud":"us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",` +
				`"amr":["authenticated","login.example","login.example:us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:user \"1\""],` +
				`"https://aws.amazon.com/tags":{"principal_tags":{"a<b":["x\ny"],"team":["blue"]}},"iss":"https://fedid.example.com",` +
				`"https://cognito-identity.amazonaws.com/identity-pool-arn":"arn:aws:cognito-identity:us-east-1:000000000000:identitypool/us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",` +
				`"exp":1795522500,"iat":1795521600}`
			if string(payload) != want {
				t.Fatalf("payload\n%s\nwant\n%s", payload, want)
			}
			var generic map[string]any
			if err := json.Unmarshal(payload, &generic); err != nil {
				t.Fatalf("payload is not JSON: %v", err)
			}
			hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
			if string(hdr) != `{"kid":"us-east-1-1","typ":"JWS","alg":"RS512"}` {
				t.Fatalf("header %s", hdr)
			}
			back, err := m.CheckToken(tok)
			if err != nil || back.Subject != claims.Subject || back.PrincipalTags["team"] != "blue" || !back.ExpiresAt.Equal(claims.ExpiresAt) {
				t.Fatalf("verify: %v %+v", err, back)
			}
		})
	}
}

func TestJWKSForm(t *testing.T) {
	m := newManager(t, &memStore{}, &clock{t: t0}, false)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(m.JWKS(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("%s %v", m.JWKS(), err)
	}
	k := set.Keys[0]
	if k["kty"] != "RSA" || k["alg"] != "RS512" || k["use"] != "sig" || k["e"] != "AQAB" || k["kid"] != "us-east-1-1" {
		t.Fatalf("jwk %v", k)
	}
	n, err := base64.RawURLEncoding.DecodeString(k["n"])
	if err != nil || len(n) != 256 || n[0] == 0 || strings.ContainsAny(k["n"], "+/=") {
		t.Fatalf("n is not unpadded base64url of 2048 bits without a leading zero: %v %d", err, len(n))
	}
}

func TestVerifyRejects(t *testing.T) {
	m := newManager(t, &memStore{}, &clock{t: t0}, false)
	other := newManager(t, &memStore{}, &clock{t: t0}, false)
	tok, _ := m.Mint(claims)
	foreign, _ := other.Mint(claims)
	parts := strings.Split(tok, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"kid":"us-east-1-1","typ":"JWS","alg":"none"}`))
	hs := base64.RawURLEncoding.EncodeToString([]byte(`{"kid":"us-east-1-1","typ":"JWS","alg":"HS256"}`))
	unknown := base64.RawURLEncoding.EncodeToString([]byte(`{"kid":"us-east-1-9","typ":"JWS","alg":"RS512"}`))
	sig := []byte(parts[2])
	sig[10] ^= 1
	for name, bad := range map[string]string{
		"signed by another key set": foreign,
		"bad signature":             parts[0] + "." + parts[1] + "." + string(sig),
		"changed payload":           parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x"}`)) + "." + parts[2],
		"alg none":                  none + "." + parts[1] + ".",
		"alg HS256":                 hs + "." + parts[1] + "." + parts[2],
		"unknown kid":               unknown + "." + parts[1] + "." + parts[2],
		"two segments":              parts[0] + "." + parts[1],
		"four segments":             tok + ".x",
		"garbage":                   "!!!.???.***",
		"empty":                     "",
	} {
		if _, err := m.CheckToken(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRotation(t *testing.T) {
	st := &memStore{}
	c := &clock{t: t0}
	m := newManager(t, st, c, false)
	ctx := context.Background()
	old, _ := m.Mint(claims)
	if err := m.Rotate(ctx, false); err != nil || m.CurrentKID() != "us-east-1-1" {
		t.Fatalf("rotation before due: %v %s", err, m.CurrentKID())
	}
	c.Add(DefaultRotationPeriod + time.Second)
	if err := m.Rotate(ctx, false); err != nil {
		t.Fatal(err)
	}
	// The new key is published at once but signs only after the lead
	// time, so every instance and verifier has it before its first token.
	if m.CurrentKID() != "us-east-1-1" || m.PendingKID() != "us-east-1-2" || !strings.Contains(string(m.JWKS()), `"us-east-1-2"`) {
		t.Fatalf("after rotation: current %s pending %s JWKS %s", m.CurrentKID(), m.PendingKID(), m.JWKS())
	}
	c.Add(m.opts.PublishLead)
	if err := m.Reload(ctx); err != nil || m.CurrentKID() != "us-east-1-2" || m.PendingKID() != "" {
		t.Fatalf("after the lead time: %v current %s pending %s", err, m.CurrentKID(), m.PendingKID())
	}
	fresh, _ := m.Mint(claims)
	verifyJOSE(t, m, fresh)
	verifyJOSE(t, m, old) // the retired key stays published
	if _, err := m.CheckToken(old); err != nil {
		t.Fatalf("old token: %v", err)
	}
	// Once every token it signed has expired, the old key leaves the JWKS.
	c.Add(DefaultMaxTokenLifetime + time.Second)
	if err := m.Rotate(ctx, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(m.JWKS()), `"us-east-1-1"`) || !strings.Contains(string(m.JWKS()), `"us-east-1-2"`) {
		t.Fatalf("JWKS after expiry: %s", m.JWKS())
	}
	if _, err := m.CheckToken(old); err == nil {
		t.Fatal("token of an expired key still verifies")
	}
	if m.MaxAge() < time.Minute || m.MaxAge() > time.Hour {
		t.Fatalf("max age %v", m.MaxAge())
	}
}

// TestRacingInstances: two managers on one store (two fedid instances on
// one database) agree on one key at start, and a rotation forced on both
// at once yields one new key that both sign with.
func TestRacingInstances(t *testing.T) {
	st := &memStore{}
	c := &clock{t: t0}
	ctx := context.Background()
	ms := make([]*Manager, 4)
	var wg sync.WaitGroup
	for i := range ms {
		ms[i] = NewManager(st, c, Options{Region: "us-east-1"})
		wg.Add(1)
		go func() { defer wg.Done(); _ = ms[i].Init(ctx) }()
	}
	wg.Wait()
	keys, _ := st.SigningKeys(ctx)
	if len(keys) != 1 {
		t.Fatalf("%d keys after concurrent init", len(keys))
	}
	seen := ms[0].state.Load().current.seq
	for i := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ms[i].RotateFrom(ctx, seen); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	keys, _ = st.SigningKeys(ctx)
	if len(keys) != 2 {
		t.Fatalf("%d keys after racing rotations, want 2", len(keys))
	}
	for _, m := range ms {
		if err := m.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if m.CurrentKID() != "us-east-1-1" || !strings.Contains(string(m.JWKS()), `"us-east-1-2"`) {
			t.Fatalf("before the lead time: signs with %s, JWKS %s", m.CurrentKID(), m.JWKS())
		}
	}
	c.Add(ms[0].opts.PublishLead)
	for _, m := range ms {
		if err := m.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if m.CurrentKID() != "us-east-1-2" {
			t.Fatalf("instance signs with %s", m.CurrentKID())
		}
	}
	tok, _ := ms[1].Mint(claims)
	if _, err := ms[3].CheckToken(tok); err != nil {
		t.Fatalf("one instance's token fails on another: %v", err)
	}
}

// TestVerifyReloadsUnknownKid: a token signed with a key another instance
// created is verified after one reload.
func TestVerifyReloadsUnknownKid(t *testing.T) {
	st := &memStore{}
	c := &clock{t: t0}
	a := newManager(t, st, c, false)
	b := newManager(t, st, c, false)
	if err := a.Rotate(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	c.Add(a.opts.PublishLead)
	if err := a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok, _ := a.Mint(claims)
	if _, err := b.CheckToken(tok); err != nil {
		t.Fatalf("b did not pick up a's key: %v", err)
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	st := &memStore{}
	newManager(t, st, &clock{t: t0}, false)
	k := st.keys[0]
	s := k.String()
	if strings.Contains(s, string(k.PrivateKey[:16])) || s != "SigningKey{us-east-1-1}" {
		t.Fatalf("String() = %q", s)
	}
}

func benchMint(b *testing.B, forceGo, parallel bool) {
	m := newManager(b, &memStore{}, &clock{t: t0}, forceGo)
	b.ReportAllocs()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := m.Mint(claims); err != nil {
					b.Fatal(err)
				}
			}
		})
		return
	}
	for b.Loop() {
		if _, err := m.Mint(claims); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMint(b *testing.B) {
	b.Run("openssl", func(b *testing.B) { benchMint(b, false, false) })
	b.Run("go", func(b *testing.B) { benchMint(b, true, false) })
	b.Run("openssl-parallel", func(b *testing.B) { benchMint(b, false, true) })
	b.Run("go-parallel", func(b *testing.B) { benchMint(b, true, true) })
}

func BenchmarkRawSign(b *testing.B) {
	for _, forceGo := range []bool{false, true} {
		m := newManager(b, &memStore{}, &clock{t: t0}, forceGo)
		sg := m.state.Load().current.signer
		digest := make([]byte, 64)
		name := "openssl"
		if forceGo {
			name = "go"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := sg.sign(digest); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"-parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := sg.sign(digest); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// FuzzAppendString holds the claims' JSON string writer to encoding/json:
// its output is one valid JSON string that decodes to what encoding/json
// makes of the same Go string (invalid UTF-8 becomes U+FFFD).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\s`, "\x00\x1f\x7f", "é\u2028<&>", "\xff\xfe", "a\xc3", strings.Repeat("x", 300) + "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q: %s is not a JSON string: %v", s, out, err)
		}
		ref, _ := json.Marshal(s)
		var want string
		_ = json.Unmarshal(ref, &want)
		if got != want {
			t.Fatalf("%q: decodes to %q, want %q", s, got, want)
		}
	})
}
