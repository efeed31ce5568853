package federation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dghubble/oauth1"
	"golang.org/x/sync/singleflight"

	"github.com/fedid/fedid"
)

// The access-token providers: Facebook, Login with Amazon and Twitter. Their
// logins are not JWTs that fedid could check by itself: as the service does,
// fedid asks the provider whether the token holds and whose it is, at an
// endpoint that defaults to the real provider (Config.ProviderEndpoints
// points one at a local stub).
const (
	Facebook = "graph.facebook.com"
	Amazon   = "www.amazon.com"
	Twitter  = "api.twitter.com"
	Digits   = "www.digits.com"
)

// DefaultProviderEndpoints are the real endpoints fedid asks.
var DefaultProviderEndpoints = map[string]string{
	Facebook: "https://graph.facebook.com",
	Amazon:   "https://api.amazon.com",
	Twitter:  "https://api.twitter.com",
}

// CheckProviderEndpoints validates Config.ProviderEndpoints: known provider
// names, absolute http(s) URLs without query or fragment.
func CheckProviderEndpoints(m map[string]string) error {
	for name, u := range m {
		if _, ok := DefaultProviderEndpoints[name]; !ok {
			return fmt.Errorf("%q is not a provider fedid asks (%s, %s or %s)", name, Facebook, Amazon, Twitter)
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
			return fmt.Errorf("%s=%q is not an http(s) URL without query or fragment", name, u)
		}
	}
	return nil
}

// maxSocialTTL is the longest a provider's answer is reused; maxSocialCached
// bounds the number of answers held (past it, expired ones are dropped, then
// all).
const (
	maxSocialTTL    = time.Minute
	maxSocialCached = 10000
)

// socialAnswer is what a provider said of a token: enough to apply the
// pool's checks again on every use (several pools may trust one provider
// with different app IDs).
type socialAnswer struct {
	clientID string // Facebook app ID, Amazon aud, Twitter consumer key
	user     string // the provider's user ID: the login key
	claims   map[string]any
	ttl      time.Duration // at most maxSocialTTL; shorter when the token expires sooner
}

// social asks the access-token providers, with a cache of their successful
// answers. The cache is keyed by the SHA-256 of the provider, the pool's
// credentials where they take part in the call (Twitter's consumer key and
// secret) and the token, never by the token itself; concurrent checks of one
// token share one call (singleflight).
type social struct {
	endpoints map[string]string
	client    *http.Client
	clock     fedid.Clock
	timeout   time.Duration

	flight singleflight.Group
	mu     sync.Mutex
	cache  map[[sha256.Size]byte]cachedAnswer
}

type cachedAnswer struct {
	a     *socialAnswer
	until time.Time
}

func newSocial(cfg Config, clock fedid.Clock) *social {
	endpoints := map[string]string{}
	for k, v := range DefaultProviderEndpoints {
		endpoints[k] = v
	}
	for k, v := range cfg.ProviderEndpoints {
		endpoints[k] = strings.TrimSuffix(v, "/")
	}
	return &social{
		endpoints: endpoints,
		// Redirects are not followed: a provider's answer is the one at
		// its endpoint.
		client: &http.Client{Transport: http.DefaultTransport, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		clock:   clock,
		timeout: cfg.Timeout,
		cache:   map[[sha256.Size]byte]cachedAnswer{},
	}
}

// isSocial reports whether provider is checked by asking the provider.
func isSocial(provider string) bool {
	_, ok := DefaultProviderEndpoints[provider]
	return ok || provider == Digits
}

var errDigits = fedid.Errorf(fedid.KindNotAuthorized,
	"Invalid login token. Digits (www.digits.com) was retired by its owner; its logins can no longer be checked.")

// verifySocial checks the login of an access-token provider the pool lists
// in SupportedLoginProviders (value: the app or client ID; for Twitter
// consumerKey;consumerSecret).
func (c *Checker) verifySocial(ctx context.Context, provider, value, token string) (*fedid.VerifiedLogin, error) {
	s := c.social
	var clients []string
	var scope string // the pool credentials that take part in the call
	var ask func(ctx context.Context) (*socialAnswer, error)
	switch provider {
	case Digits:
		return nil, errDigits
	case Facebook:
		clients = strings.Split(value, ";")
		ask = func(ctx context.Context) (*socialAnswer, error) { return s.facebook(ctx, token) }
	case Amazon:
		clients = strings.Split(value, ";")
		ask = func(ctx context.Context) (*socialAnswer, error) { return s.amazon(ctx, token) }
	case Twitter:
		key, secret, ok := strings.Cut(value, ";")
		if !ok || key == "" || secret == "" {
			return nil, fedid.Errorf(fedid.KindNotAuthorized,
				"The identity pool's %s value must be consumerKey;consumerSecret.", Twitter)
		}
		access, accessSecret, ok := strings.Cut(token, ";")
		if !ok || access == "" || accessSecret == "" {
			return nil, invalid("An %s login is accessToken;accessSecret.", Twitter)
		}
		clients, scope = []string{key}, value
		ask = func(ctx context.Context) (*socialAnswer, error) {
			return s.twitter(ctx, key, secret, access, accessSecret)
		}
	}
	if token == "" {
		return nil, invalid("The token is empty.")
	}
	a, err := s.answer(ctx, provider, scope, token, ask)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(clients, a.clientID) {
		return nil, invalid("The token was issued to another application than this identity pool's %s.", provider)
	}
	return &fedid.VerifiedLogin{Provider: provider, Key: a.user, Detail: provider + ":" + a.clientID + ":" + a.user,
		ClientID: a.clientID, Claims: copyClaims(a.claims)}, nil
}

// copyClaims copies the cached claims: the rules may keep the map.
func copyClaims(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// answer returns the provider's answer on the token: cached, or asked (one
// call for concurrent checks of one token) and cached when it holds.
func (s *social) answer(ctx context.Context, provider, scope, token string, ask func(context.Context) (*socialAnswer, error)) (*socialAnswer, error) {
	h := sha256.New()
	for _, part := range []string{provider, scope, token} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	now := s.clock.Now()
	s.mu.Lock()
	e, ok := s.cache[key]
	s.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.a, nil
	}
	ch := s.flight.DoChan(string(key[:]), func() (any, error) {
		// The call serves every waiter: it is bounded by the provider
		// timeout, not by the first caller's context.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
		defer cancel()
		a, err := ask(ctx)
		if err != nil {
			return nil, err
		}
		if a.ttl > 0 {
			s.put(key, cachedAnswer{a: a, until: s.clock.Now().Add(a.ttl)})
		}
		return a, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*socialAnswer), nil
	case <-ctx.Done():
		return nil, &fedid.Error{Kind: fedid.KindExternalService, Message: provider + " is not responding", Err: ctx.Err()}
	}
}

func (s *social) put(key [sha256.Size]byte, e cachedAnswer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cache) >= maxSocialCached {
		now := s.clock.Now()
		for k, old := range s.cache {
			if !now.Before(old.until) {
				delete(s.cache, k)
			}
		}
		if len(s.cache) >= maxSocialCached {
			clear(s.cache)
		}
	}
	s.cache[key] = e
}

// notResponding is the provider's fault: no answer in time, a 5xx, a 429,
// an answer that is not what the provider sends.
func notResponding(provider string, err error) error {
	return &fedid.Error{Kind: fedid.KindExternalService, Message: provider + " is not responding", Err: err}
}

// get asks the provider and returns the status and body of its answer. The
// errors never hold the URL (Facebook and Amazon take the token in the query
// string, and *url.Error quotes the URL).
func (s *social) get(ctx context.Context, client *http.Client, provider, path string, query url.Values) (int, []byte, error) {
	u := s.endpoints[provider] + path
	if query != nil {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, notResponding(provider, fmt.Errorf("GET %s: bad endpoint", path))
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, notResponding(provider, fmt.Errorf("GET %s: %w", path, err))
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxDocument+1))
	if err != nil {
		return 0, nil, notResponding(provider, fmt.Errorf("GET %s: reading the answer: %w", path, err))
	}
	if len(b) > maxDocument {
		return 0, nil, notResponding(provider, fmt.Errorf("GET %s: more than %d bytes", path, maxDocument))
	}
	switch {
	case res.StatusCode == http.StatusOK:
		return res.StatusCode, b, nil
	case res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != http.StatusTooManyRequests:
		return res.StatusCode, b, nil // the token's fault: the caller says why
	default:
		return 0, nil, notResponding(provider, fmt.Errorf("GET %s: HTTP %d", path, res.StatusCode))
	}
}

// refused is a provider's refusal of a token, naming the provider's error
// type and code when it gave them but never quoting its message (Graph's
// messages may quote the token).
func refused(provider string, status int, kind, code string) error {
	why := fmt.Sprintf("HTTP %d", status)
	if kind != "" {
		why = fedid.ClipTo(kind, 64)
		if code != "" {
			why += " " + fedid.ClipTo(code, 16)
		}
	}
	return invalid("%s refused the token (%s).", provider, why)
}

// id is a provider's ID, sent as a JSON string or number.
type id string

func (i *id) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*i = id(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*i = id(n.String())
	return nil
}

// graphError is Graph's error answer: {"error": {"type", "code", ...}}.
type graphError struct {
	Error *struct {
		Type string          `json:"type"`
		Code json.RawMessage `json:"code"`
	} `json:"error"`
}

func (g *graphError) refused(status int) error {
	if g.Error == nil {
		return refused(Facebook, status, "", "")
	}
	return refused(Facebook, status, g.Error.Type, strings.Trim(string(g.Error.Code), `"`))
}

// facebook asks Graph which app the token was issued to (GET /app) and whose
// it is (GET /me?fields=id).
func (s *social) facebook(ctx context.Context, token string) (*socialAnswer, error) {
	app, err := s.graphID(ctx, "/app", url.Values{"access_token": {token}})
	if err != nil {
		return nil, err
	}
	user, err := s.graphID(ctx, "/me", url.Values{"fields": {"id"}, "access_token": {token}})
	if err != nil {
		return nil, err
	}
	return &socialAnswer{clientID: app, user: user, ttl: maxSocialTTL,
		claims: map[string]any{"aud": app, "app_id": app, "sub": user, "id": user}}, nil
}

// graphID asks Graph for an object and returns its id.
func (s *social) graphID(ctx context.Context, path string, q url.Values) (string, error) {
	status, b, err := s.get(ctx, s.client, Facebook, path, q)
	if err != nil {
		return "", err
	}
	var answer struct {
		graphError
		ID id `json:"id"`
	}
	if json.Unmarshal(b, &answer) != nil {
		if status != http.StatusOK {
			return "", refused(Facebook, status, "", "")
		}
		return "", notResponding(Facebook, fmt.Errorf("GET %s: the answer is not JSON", path))
	}
	if status != http.StatusOK || answer.Error != nil {
		return "", answer.refused(status)
	}
	if answer.ID == "" {
		return "", notResponding(Facebook, fmt.Errorf("GET %s: the answer has no id", path))
	}
	return string(answer.ID), nil
}

// amazon asks Login with Amazon's tokeninfo whose the token is and for which
// client it was issued.
func (s *social) amazon(ctx context.Context, token string) (*socialAnswer, error) {
	status, b, err := s.get(ctx, s.client, Amazon, "/auth/o2/tokeninfo", url.Values{"access_token": {token}})
	if err != nil {
		return nil, err
	}
	var info map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&info) != nil || info == nil {
		if status != http.StatusOK {
			return nil, refused(Amazon, status, "", "")
		}
		return nil, notResponding(Amazon, errors.New("GET /auth/o2/tokeninfo: the answer is not a JSON object"))
	}
	if e, ok := info["error"].(string); ok || status != http.StatusOK {
		return nil, refused(Amazon, status, e, "")
	}
	aud, _ := info["aud"].(string)
	user, _ := info["user_id"].(string)
	if aud == "" || user == "" {
		return nil, notResponding(Amazon, errors.New("GET /auth/o2/tokeninfo: the answer has no aud or user_id"))
	}
	ttl := maxSocialTTL
	if n, ok := info["exp"].(json.Number); ok {
		left, err := n.Float64()
		if err != nil {
			return nil, notResponding(Amazon, errors.New("GET /auth/o2/tokeninfo: exp is not a number"))
		}
		if left <= 0 {
			return nil, invalid("Token expired.")
		}
		ttl = min(ttl, time.Duration(left*float64(time.Second)))
	}
	claims := map[string]any{}
	for k, v := range info {
		if n, ok := v.(json.Number); ok {
			v, _ = n.Float64()
		}
		claims[k] = v
	}
	claims["sub"] = user
	return &socialAnswer{clientID: aud, user: user, ttl: ttl, claims: claims}, nil
}

// twitter asks verify_credentials with the login's access token, signed
// with OAuth 1.0a HMAC-SHA1 (github.com/dghubble/oauth1) under the pool's
// consumer key and secret: Twitter answers 200 with the user only when all
// four hold together.
func (s *social) twitter(ctx context.Context, consumerKey, consumerSecret, token, tokenSecret string) (*socialAnswer, error) {
	cfg := oauth1.NewConfig(consumerKey, consumerSecret)
	client := cfg.Client(context.WithValue(ctx, oauth1.HTTPClient, s.client), oauth1.NewToken(token, tokenSecret))
	client.CheckRedirect = s.client.CheckRedirect
	const path = "/1.1/account/verify_credentials.json"
	status, b, err := s.get(ctx, client, Twitter, path, nil)
	if err != nil {
		return nil, err
	}
	var answer struct {
		IDStr      string `json:"id_str"`
		ScreenName string `json:"screen_name"`
		Errors     []struct {
			Code json.RawMessage `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &answer) != nil {
		if status != http.StatusOK {
			return nil, refused(Twitter, status, "", "")
		}
		return nil, notResponding(Twitter, fmt.Errorf("GET %s: the answer is not JSON", path))
	}
	if status != http.StatusOK {
		if len(answer.Errors) > 0 {
			return nil, refused(Twitter, status, "error", string(answer.Errors[0].Code))
		}
		return nil, refused(Twitter, status, "", "")
	}
	if answer.IDStr == "" {
		return nil, notResponding(Twitter, fmt.Errorf("GET %s: the answer has no id_str", path))
	}
	claims := map[string]any{"aud": consumerKey, "sub": answer.IDStr, "id_str": answer.IDStr}
	if answer.ScreenName != "" {
		claims["screen_name"] = answer.ScreenName
	}
	return &socialAnswer{clientID: consumerKey, user: answer.IDStr, ttl: maxSocialTTL, claims: claims}, nil
}
