// Package socialtest runs local stand-ins for the endpoints fedid asks about
// access tokens (Facebook's Graph API, Login with Amazon's tokeninfo,
// Twitter's verify_credentials), speaking the real request and answer
// shapes, for the tests of internal/federation and e2e. The Twitter stub
// checks OAuth 1.0a HMAC-SHA1 signatures itself (RFC 5849), independently
// of the library fedid signs with.
package socialtest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// User is what a stub knows of a token.
type User struct {
	ID  string // Graph's user ID, Amazon's user_id, Twitter's id_str
	App string // Graph's app ID, Amazon's aud (client ID)
	// Exp is Amazon's exp: seconds the token has left (0: 3600).
	Exp int
	// Secret is the token secret of a Twitter access token.
	Secret string
}

// Provider is a running stub.
type Provider struct {
	srv *httptest.Server
	// Calls counts the requests answered.
	Calls atomic.Int64
	// Delay makes every request wait (ns) before answering.
	Delay atomic.Int64
	// Status, when not 0, is the answer of every request (a 5xx outage).
	Status atomic.Int64

	// ConsumerKey and ConsumerSecret are the Twitter app's (Twitter stub).
	ConsumerKey, ConsumerSecret string

	mu      sync.Mutex
	tokens  map[string]User
	unblock chan struct{}
}

func start(tb testing.TB, h func(p *Provider, w http.ResponseWriter, r *http.Request)) *Provider {
	tb.Helper()
	p := &Provider{tokens: map[string]User{}, unblock: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Calls.Add(1)
		if d := time.Duration(p.Delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-p.unblock:
			case <-r.Context().Done():
				return
			}
		}
		if s := p.Status.Load(); s != 0 {
			http.Error(w, "unavailable", int(s))
			return
		}
		h(p, w, r)
	}))
	tb.Cleanup(p.Close)
	return p
}

// URL is the stub's base URL, what fedid's provider endpoint is set to.
func (p *Provider) URL() string { return p.srv.URL }

// Close stops the stub: its port then refuses connections. Safe twice.
func (p *Provider) Close() {
	p.mu.Lock()
	select {
	case <-p.unblock:
	default:
		close(p.unblock)
	}
	p.mu.Unlock()
	p.srv.Close()
}

// Grant makes token valid for u.
func (p *Provider) Grant(token string, u User) {
	p.mu.Lock()
	p.tokens[token] = u
	p.mu.Unlock()
}

// Revoke makes token invalid.
func (p *Provider) Revoke(token string) {
	p.mu.Lock()
	delete(p.tokens, token)
	p.mu.Unlock()
}

func (p *Provider) user(token string) (User, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, ok := p.tokens[token]
	return u, ok
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NewFacebook starts a Graph API stub: GET /app and GET /me?fields=id with
// access_token in the query.
func NewFacebook(tb testing.TB) *Provider {
	return start(tb, func(p *Provider, w http.ResponseWriter, r *http.Request) {
		u, ok := p.user(r.URL.Query().Get("access_token"))
		if r.Method != http.MethodGet {
			answer(w, http.StatusBadRequest, graphError("Unsupported method", "GraphMethodException", 100))
			return
		}
		if !ok {
			// Graph's answer to an unknown, expired or revoked token.
			answer(w, http.StatusBadRequest, graphError("Invalid OAuth access token - Cannot parse access token", "OAuthException", 190))
			return
		}
		switch r.URL.Path {
		case "/app":
			answer(w, http.StatusOK, map[string]any{"id": u.App, "name": "Test app", "link": "https://www.facebook.com/games/?app_id=" + u.App})
		case "/me":
			if f := r.URL.Query().Get("fields"); f != "id" {
				answer(w, http.StatusBadRequest, graphError("fields must be id here", "OAuthException", 100))
				return
			}
			answer(w, http.StatusOK, map[string]any{"id": u.ID})
		default:
			answer(w, http.StatusBadRequest, graphError("Unknown path components: "+r.URL.Path, "OAuthException", 2500))
		}
	})
}

func graphError(msg, typ string, code int) map[string]any {
	return map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": "AbCdEfGhIjK"}}
}

// NewAmazon starts a Login with Amazon stub: GET /auth/o2/tokeninfo with
// access_token in the query.
func NewAmazon(tb testing.TB) *Provider {
	return start(tb, func(p *Provider, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/auth/o2/tokeninfo" {
			http.NotFound(w, r)
			return
		}
		u, ok := p.user(r.URL.Query().Get("access_token"))
		if !ok {
			answer(w, http.StatusBadRequest, map[string]any{"error": "invalid_token", "error_description": "The request has an invalid parameter : access_token"})
			return
		}
		exp := u.Exp
		if exp == 0 {
			exp = 3600
		}
		answer(w, http.StatusOK, map[string]any{"iss": "https://www.amazon.com", "user_id": u.ID, "aud": u.App,
			"app_id": "amzn1.application.0123456789abcdef", "exp": exp, "iat": time.Now().Unix()})
	})
}

// NewTwitter starts a Twitter API stub for one app: GET
// /1.1/account/verify_credentials.json, signed with OAuth 1.0a HMAC-SHA1.
func NewTwitter(tb testing.TB, consumerKey, consumerSecret string) *Provider {
	p := start(tb, func(p *Provider, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/1.1/account/verify_credentials.json" {
			answer(w, http.StatusNotFound, twitterError(34, "Sorry, that page does not exist."))
			return
		}
		params, ok := AuthorizationParams(r.Header.Get("Authorization"))
		if !ok || params.Get("oauth_signature_method") != "HMAC-SHA1" || params.Get("oauth_version") != "1.0" ||
			params.Get("oauth_consumer_key") != p.ConsumerKey || params.Get("oauth_nonce") == "" {
			answer(w, http.StatusUnauthorized, twitterError(32, "Could not authenticate you."))
			return
		}
		u, ok := p.user(params.Get("oauth_token"))
		if !ok {
			answer(w, http.StatusUnauthorized, twitterError(89, "Invalid or expired token."))
			return
		}
		if !Verify(r, params, p.ConsumerSecret, u.Secret) {
			answer(w, http.StatusUnauthorized, twitterError(32, "Could not authenticate you."))
			return
		}
		user := map[string]any{"id_str": u.ID, "screen_name": "user" + u.ID, "name": "User " + u.ID}
		if _, err := strconv.ParseUint(u.ID, 10, 64); err == nil {
			user["id"] = json.Number(u.ID) // Twitter's numeric id beside id_str
		}
		answer(w, http.StatusOK, user)
	})
	p.ConsumerKey, p.ConsumerSecret = consumerKey, consumerSecret
	return p
}

func twitterError(code int, msg string) map[string]any {
	return map[string]any{"errors": []any{map[string]any{"code": code, "message": msg}}}
}

// AuthorizationParams parses an `Authorization: OAuth k="v", …` header
// (RFC 5849 3.5.1).
func AuthorizationParams(h string) (url.Values, bool) {
	rest, ok := strings.CutPrefix(h, "OAuth ")
	if !ok {
		return nil, false
	}
	out := url.Values{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return nil, false
		}
		kk, err1 := url.PathUnescape(k)
		vv, err2 := url.PathUnescape(v[1 : len(v)-1])
		if err1 != nil || err2 != nil {
			return nil, false
		}
		out.Add(kk, vv)
	}
	return out, true
}

// Verify checks the oauth_signature of a request (header parameters in
// params) with HMAC-SHA1 under the consumer and token secrets.
func Verify(r *http.Request, params url.Values, consumerSecret, tokenSecret string) bool {
	all := url.Values{}
	for k, vs := range r.URL.Query() {
		all[k] = append(all[k], vs...)
	}
	for k, vs := range params {
		if k == "oauth_signature" || k == "realm" {
			continue
		}
		all[k] = append(all[k], vs...)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := SignatureBase(r.Method, scheme+"://"+strings.ToLower(r.Host)+r.URL.EscapedPath(), all)
	want := Sign(base, consumerSecret, tokenSecret)
	return hmac.Equal([]byte(want), []byte(params.Get("oauth_signature")))
}

// Encode is RFC 5849 3.6 percent-encoding: everything but ALPHA, DIGIT, '-',
// '.', '_' and '~', in upper-case hex.
func Encode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// SignatureBase is the signature base string of RFC 5849 3.4.1: the method,
// the base string URI and the normalized parameters (each name and value
// encoded, sorted by name then value, joined by '=' and '&'), each encoded
// and joined by '&'.
func SignatureBase(method, baseURI string, params url.Values) string {
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range params {
		for _, v := range vs {
			pairs = append(pairs, pair{Encode(k), Encode(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	joined := make([]string, len(pairs))
	for i, p := range pairs {
		joined[i] = p.k + "=" + p.v
	}
	return strings.ToUpper(method) + "&" + Encode(baseURI) + "&" + Encode(strings.Join(joined, "&"))
}

// Sign is the HMAC-SHA1 signature of RFC 5849 3.4.2: the key is the encoded
// consumer secret and token secret joined by '&', the result base64.
func Sign(base, consumerSecret, tokenSecret string) string {
	m := hmac.New(sha1.New, []byte(Encode(consumerSecret)+"&"+Encode(tokenSecret)))
	m.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
