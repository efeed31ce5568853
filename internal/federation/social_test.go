package federation

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dghubble/oauth1"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/federation/socialtest"
)

// movingClock is a settable clock for the cache's lifetimes.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movingClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	fbApp       = "1234567890"
	amznClient  = "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef"
	twKey       = "xvz1evFS4wEEPTGEFPHBog"
	twSecret    = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
	twPoolValue = twKey + ";" + twSecret
)

// socialEnv is a checker whose three access-token providers are stubs.
type socialEnv struct {
	fb, amzn, tw *socialtest.Provider
	clock        *movingClock
	c            *Checker
	pool         *fedid.Pool
}

func newSocialEnv(t *testing.T) *socialEnv {
	e := &socialEnv{fb: socialtest.NewFacebook(t), amzn: socialtest.NewAmazon(t),
		tw: socialtest.NewTwitter(t, twKey, twSecret), clock: &movingClock{t: now}}
	cfg := testConfig()
	cfg.ProviderEndpoints = map[string]string{Facebook: e.fb.URL(), Amazon: e.amzn.URL() + "/", Twitter: e.tw.URL()}
	e.c = New(cfg, providers{}, e.clock)
	e.pool = &fedid.Pool{SupportedLoginProviders: map[string]string{Facebook: fbApp, Amazon: amznClient, Twitter: twPoolValue}}
	return e
}

func (e *socialEnv) stub(provider string) *socialtest.Provider {
	return map[string]*socialtest.Provider{Facebook: e.fb, Amazon: e.amzn, Twitter: e.tw}[provider]
}

// grant makes a valid login of user for provider and returns it.
func (e *socialEnv) grant(provider, token, user string) string {
	switch provider {
	case Facebook:
		e.fb.Grant(token, socialtest.User{ID: user, App: fbApp})
	case Amazon:
		e.amzn.Grant(token, socialtest.User{ID: user, App: amznClient})
	case Twitter:
		e.tw.Grant(token, socialtest.User{ID: user, Secret: token + "-secret"})
		return token + ";" + token + "-secret"
	}
	return token
}

func TestSocialLogins(t *testing.T) {
	e := newSocialEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		provider, user, client string
		calls                  int64 // provider requests per check
	}{
		{Facebook, "10158000000000001", fbApp, 2},
		{Amazon, "amzn1.account.AEXAMPLEUSER", amznClient, 1},
		{Twitter, "783214", twKey, 1},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			login := e.grant(tc.provider, "tok|"+tc.provider+"/+=", tc.user) // characters that need encoding
			v, err := e.c.VerifyLogin(ctx, e.pool, tc.provider, login)
			if err != nil {
				t.Fatal(err)
			}
			if v.Provider != tc.provider || v.Key != tc.user || v.ClientID != tc.client ||
				v.Detail != tc.provider+":"+tc.client+":"+tc.user {
				t.Fatalf("verified %+v", v)
			}
			if v.Claims["sub"] != tc.user || v.Claims["aud"] != tc.client {
				t.Fatalf("claims %v", v.Claims)
			}
			if got := e.stub(tc.provider).Calls.Load(); got != tc.calls {
				t.Fatalf("%d provider calls, want %d", got, tc.calls)
			}
		})
	}
}

func TestSocialRefusals(t *testing.T) {
	ctx := context.Background()
	for _, provider := range []string{Facebook, Amazon, Twitter} {
		t.Run(provider, func(t *testing.T) {
			e := newSocialEnv(t)
			login := e.grant(provider, "revoked", "u1")
			e.stub(provider).Revoke(strings.SplitN(login, ";", 2)[0])
			_, err := e.c.VerifyLogin(ctx, e.pool, provider, login)
			wantErr(t, err, fedid.KindNotAuthorized, "Invalid login token. "+provider+" refused the token")
			var fe *fedid.Error
			if errorAs(err, &fe); strings.Contains(fe.Error(), "revoked") {
				t.Fatalf("the error quotes the token: %v", fe)
			}

			// A token of another app, or a pool of another app.
			other := &fedid.Pool{SupportedLoginProviders: map[string]string{Facebook: "999", Amazon: "amzn1.application-oa2-client.other", Twitter: "otherkey;othersecret"}}
			login = e.grant(provider, "good", "u1")
			_, err = e.c.VerifyLogin(ctx, other, provider, login)
			if provider == Twitter {
				// The stub knows only its own app: the signature fails.
				wantErr(t, err, fedid.KindNotAuthorized, "Invalid login token. api.twitter.com refused the token (error 32)")
			} else {
				wantErr(t, err, fedid.KindNotAuthorized, "Invalid login token. The token was issued to another application")
			}
			// The answer for the right pool was not spoilt by the other pool.
			if _, err := e.c.VerifyLogin(ctx, e.pool, provider, login); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSocialTwitterForms(t *testing.T) {
	e := newSocialEnv(t)
	ctx := context.Background()
	login := e.grant(Twitter, "at", "42")
	_, err := e.c.VerifyLogin(ctx, e.pool, Twitter, "at")
	wantErr(t, err, fedid.KindNotAuthorized, "Invalid login token. An api.twitter.com login is accessToken;accessSecret.")
	_, err = e.c.VerifyLogin(ctx, e.pool, Twitter, "at;wrong-secret")
	wantErr(t, err, fedid.KindNotAuthorized, "Invalid login token. api.twitter.com refused the token (error 32)")
	bad := &fedid.Pool{SupportedLoginProviders: map[string]string{Twitter: twKey}}
	_, err = e.c.VerifyLogin(ctx, bad, Twitter, login)
	wantErr(t, err, fedid.KindNotAuthorized, "The identity pool's api.twitter.com value must be consumerKey;consumerSecret.")
	if e.tw.Calls.Load() != 1 {
		t.Fatalf("%d calls; malformed logins and pools must cost none", e.tw.Calls.Load())
	}
}

func TestSocialDigits(t *testing.T) {
	e := newSocialEnv(t)
	pool := &fedid.Pool{SupportedLoginProviders: map[string]string{Digits: "key"}}
	_, err := e.c.VerifyLogin(context.Background(), pool, Digits, "x")
	wantErr(t, err, fedid.KindNotAuthorized, "Invalid login token. Digits (www.digits.com) was retired by its owner")
}

func TestSocialAmazonExpiry(t *testing.T) {
	e := newSocialEnv(t)
	ctx := context.Background()
	e.amzn.Grant("short", socialtest.User{ID: "amzn1.account.A", App: amznClient, Exp: 20})
	e.amzn.Grant("gone", socialtest.User{ID: "amzn1.account.A", App: amznClient, Exp: -1})
	_, err := e.c.VerifyLogin(ctx, e.pool, Amazon, "gone")
	wantErr(t, err, fedid.KindNotAuthorized, "Invalid login token. Token expired.")
	for range 2 {
		if _, err := e.c.VerifyLogin(ctx, e.pool, Amazon, "short"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.amzn.Calls.Load(); n != 2 { // "gone" once, "short" once
		t.Fatalf("%d calls", n)
	}
	// The answer is not reused past the token's exp (20 s), although the
	// cache keeps answers up to a minute.
	e.clock.Add(21 * time.Second)
	if _, err := e.c.VerifyLogin(ctx, e.pool, Amazon, "short"); err != nil {
		t.Fatal(err)
	}
	if n := e.amzn.Calls.Load(); n != 3 {
		t.Fatalf("%d calls, want a new one past exp", n)
	}
}

// TestSocialCache: a burst of checks of one token costs one provider call,
// concurrent or not; the answer is kept a minute at most, and never under
// the token itself.
func TestSocialCache(t *testing.T) {
	for _, provider := range []string{Facebook, Amazon, Twitter} {
		t.Run(provider, func(t *testing.T) {
			e := newSocialEnv(t)
			ctx := context.Background()
			login := e.grant(provider, "burst-token", "u1")
			stub := e.stub(provider)
			stub.Delay.Store(int64(50 * time.Millisecond)) // the burst arrives while the first call is out
			var wg sync.WaitGroup
			var failed atomic.Int64
			for range 20 {
				wg.Go(func() {
					if _, err := e.c.VerifyLogin(ctx, e.pool, provider, login); err != nil {
						failed.Add(1)
					}
				})
			}
			wg.Wait()
			stub.Delay.Store(0)
			perCheck := int64(1)
			if provider == Facebook {
				perCheck = 2
			}
			if failed.Load() != 0 || stub.Calls.Load() != perCheck {
				t.Fatalf("%d failed, %d calls, want %d", failed.Load(), stub.Calls.Load(), perCheck)
			}
			for range 5 {
				if _, err := e.c.VerifyLogin(ctx, e.pool, provider, login); err != nil {
					t.Fatal(err)
				}
			}
			if stub.Calls.Load() != perCheck {
				t.Fatalf("%d calls after the burst", stub.Calls.Load())
			}
			e.c.social.mu.Lock()
			for k := range e.c.social.cache {
				if strings.Contains(string(k[:]), "burst-token") {
					t.Error("the cache key holds the token")
				}
			}
			e.c.social.mu.Unlock()
			// A revoked token is still accepted from the cache within the
			// minute, and refused after it.
			stub.Revoke("burst-token")
			e.clock.Add(59 * time.Second)
			if _, err := e.c.VerifyLogin(ctx, e.pool, provider, login); err != nil {
				t.Fatal(err)
			}
			e.clock.Add(2 * time.Second)
			_, err := e.c.VerifyLogin(ctx, e.pool, provider, login)
			wantErr(t, err, fedid.KindNotAuthorized, "Invalid login token.")
			// Refusals are not cached.
			n := stub.Calls.Load()
			_, _ = e.c.VerifyLogin(ctx, e.pool, provider, login)
			if stub.Calls.Load() == n {
				t.Fatal("a refusal was cached")
			}
		})
	}
}

func TestSocialProviderDown(t *testing.T) {
	for _, provider := range []string{Facebook, Amazon, Twitter} {
		t.Run(provider, func(t *testing.T) {
			ctx := context.Background()
			want := provider + " is not responding"

			e := newSocialEnv(t)
			login := e.grant(provider, "t", "u")
			e.stub(provider).Status.Store(http.StatusServiceUnavailable)
			_, err := e.c.VerifyLogin(ctx, e.pool, provider, login)
			wantErr(t, err, fedid.KindExternalService, want)
			e.stub(provider).Status.Store(http.StatusTooManyRequests)
			_, err = e.c.VerifyLogin(ctx, e.pool, provider, login)
			wantErr(t, err, fedid.KindExternalService, want)
			e.stub(provider).Status.Store(0)

			// Slow: beyond the provider timeout (500 ms in testConfig).
			e.stub(provider).Delay.Store(int64(3 * time.Second))
			t0 := time.Now()
			_, err = e.c.VerifyLogin(ctx, e.pool, provider, login)
			wantErr(t, err, fedid.KindExternalService, want)
			if d := time.Since(t0); d > 2*time.Second {
				t.Fatalf("took %v", d)
			}
			e.stub(provider).Delay.Store(0)

			// Down: a closed port.
			e.stub(provider).Close()
			_, err = e.c.VerifyLogin(ctx, e.pool, provider, login)
			wantErr(t, err, fedid.KindExternalService, want)
			if strings.Contains(err.Error(), "access_token") || strings.Contains(err.Error(), "?") {
				t.Fatalf("the logged error quotes the URL: %v", err)
			}
		})
	}
}

// TestSocialUnreachableEndpoint: nothing listens on the port at all.
func TestSocialUnreachableEndpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := testConfig()
	cfg.ProviderEndpoints = map[string]string{Facebook: "http://" + addr}
	c := New(cfg, providers{}, fixedClock{now})
	pool := &fedid.Pool{SupportedLoginProviders: map[string]string{Facebook: fbApp}}
	_, err = c.VerifyLogin(context.Background(), pool, Facebook, "secret-token")
	wantErr(t, err, fedid.KindExternalService, "graph.facebook.com is not responding")
	if strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("error quotes the token: %v", err)
	}
}

func TestCheckProviderEndpoints(t *testing.T) {
	if err := CheckProviderEndpoints(map[string]string{Facebook: "http://127.0.0.1:1", Twitter: "https://x.example/base"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string]string{
		{"accounts.google.com": "https://x"},
		{Amazon: "ftp://x"},
		{Amazon: "127.0.0.1:80"},
		{Amazon: "https://x/?q=1"},
	} {
		if CheckProviderEndpoints(m) == nil {
			t.Errorf("%v accepted", m)
		}
	}
}

// TestRFC5849 checks the Twitter stub's independent OAuth 1.0a code, and
// the HMAC-SHA1 signer of the library fedid signs with, against the
// examples of RFC 5849.
func TestRFC5849(t *testing.T) {
	// Section 3.4.1.1: the signature base string of the example request
	// (query, Authorization header and form body parameters).
	params := url.Values{
		"b5": {"=%3D"}, "a3": {"a", "2 q"}, "c@": {""}, "a2": {"r b"}, "c2": {""},
		"oauth_consumer_key": {"9djdj82h48djs9d2"}, "oauth_token": {"kkk9d7dh3k39sjv7"},
		"oauth_signature_method": {"HMAC-SHA1"}, "oauth_timestamp": {"137131201"}, "oauth_nonce": {"7d8f3e4a"},
	}
	want := "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q" +
		"%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_" +
		"key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m" +
		"ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk" +
		"9d7dh3k39sjv7"
	if got := socialtest.SignatureBase("POST", "http://example.com/request", params); got != want {
		t.Fatalf("base string\n%s\nwant\n%s", got, want)
	}

	// Section 1.2: the signed request for the photo, with the client's and
	// the token's secrets.
	req, _ := http.NewRequest(http.MethodGet, "http://photos.example.net/photos?file=vacation.jpg&size=original", nil)
	req.Header.Set("Authorization", `OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_token="nnch734d00sl2jdk", `+
		`oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131202", oauth_nonce="chapoH", oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"`)
	req.Host = "photos.example.net"
	header, ok := socialtest.AuthorizationParams(req.Header.Get("Authorization"))
	if !ok {
		t.Fatal("header not parsed")
	}
	if !socialtest.Verify(req, header, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00") {
		t.Fatal("the RFC's signature does not verify")
	}
	if socialtest.Verify(req, header, "kd94hf93k423kf44", "other") {
		t.Fatal("verified with the wrong token secret")
	}
	base := socialtest.SignatureBase("GET", "http://photos.example.net/photos", url.Values{
		"file": {"vacation.jpg"}, "size": {"original"}, "oauth_consumer_key": {"dpf43f3p2l4k3l03"},
		"oauth_token": {"nnch734d00sl2jdk"}, "oauth_signature_method": {"HMAC-SHA1"},
		"oauth_timestamp": {"137131202"}, "oauth_nonce": {"chapoH"}})
	signer := &oauth1.HMACSigner{ConsumerSecret: "kd94hf93k423kf44"}
	if sig, _ := signer.Sign("pfkkdhi9sl3r4s00", base); sig != "MdpQcU8iPSUjWoN/UDMsK2sui9I=" {
		t.Fatalf("library signature %s", sig)
	}
}

func errorAs(err error, fe **fedid.Error) bool {
	e, ok := err.(*fedid.Error)
	if ok {
		*fe = e
	}
	return ok
}
