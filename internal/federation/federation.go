// Package federation checks the login tokens of public identity providers
// for real, as the service does: OpenID Connect providers registered for
// the account, Cognito user pools, and the OIDC-based social providers
// (Google, Sign in with Apple). The JOSE work is go-oidc's and go-jose's:
// signatures are checked by oidc.IDTokenVerifier against the provider's
// JWKS (an oidc.RemoteKeySet, fetched with a timeout, cached, refreshed when
// a token names an unknown key) or its pinned keys (oidc.StaticKeySet).
// The service's rules on top are fedid's: the issuer, the audience (or azp)
// against the configured client IDs, user pool ID tokens only, and the
// expiry with a 5-minute grace measured with the injected clock. The
// access tokens of Facebook, Login with Amazon and Twitter are checked by
// asking the provider (social.go).
package federation

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/fedid/fedid"
)

// Config configures a Checker.
type Config struct {
	// CognitoIdPEndpoint is the base URL of the Cognito user pool service:
	// a user pool's issuer is <endpoint>/<user pool id>. Empty means the real
	// service, https://cognito-idp.<region>.amazonaws.com; a local user pool
	// emulator is named here.
	CognitoIdPEndpoint string
	// SocialIssuers maps a SupportedLoginProviders name to the issuer whose
	// tokens it accepts (defaults: Google and Apple's real issuers). Tests
	// and air-gapped deployments point these at their own issuer.
	SocialIssuers map[string]string
	// ProviderEndpoints maps an access-token provider (graph.facebook.com,
	// www.amazon.com, api.twitter.com) to the base URL fedid asks about its
	// tokens (defaults: DefaultProviderEndpoints, the real ones).
	ProviderEndpoints map[string]string
	// Timeout bounds every fetch of a discovery document or key set.
	Timeout time.Duration
	// Skew is the grace period on exp and nbf.
	Skew time.Duration
	// MinRefresh is the least time between two fetches of one key set
	// caused by tokens naming unknown keys (default 5 s): a provider's key
	// rotation is picked up at once, a flood of forged key IDs is not
	// turned into a flood of fetches.
	MinRefresh time.Duration
}

// DefaultSocialIssuers are the issuers of the OIDC-based social providers.
var DefaultSocialIssuers = map[string]string{
	"accounts.google.com": "https://accounts.google.com",
	"appleid.apple.com":   "https://appleid.apple.com",
}

// ProviderStore is what the checker needs of the store.
type ProviderStore interface {
	GetOIDCProvider(ctx context.Context, arn string) (*fedid.OIDCProvider, error)
	SAMLProviderStore
}

// Checker implements fedid.LoginVerifier.
type Checker struct {
	cfg       Config
	providers ProviderStore
	clock     fedid.Clock
	keys      *keyCache
	social    *social
}

var _ fedid.LoginVerifier = (*Checker)(nil)

// New returns a checker.
func New(cfg Config, providers ProviderStore, clock fedid.Clock) *Checker {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Skew <= 0 {
		cfg.Skew = 5 * time.Minute
	}
	social := map[string]string{}
	for k, v := range DefaultSocialIssuers {
		social[k] = v
	}
	for k, v := range cfg.SocialIssuers {
		social[k] = strings.TrimSuffix(v, "/")
	}
	cfg.SocialIssuers = social
	cfg.CognitoIdPEndpoint = strings.TrimSuffix(cfg.CognitoIdPEndpoint, "/")
	if clock == nil {
		clock = fedid.SystemClock{}
	}
	if cfg.MinRefresh <= 0 {
		cfg.MinRefresh = 5 * time.Second
	}
	return &Checker{cfg: cfg, providers: providers, clock: clock, keys: newKeyCache(cfg.Timeout, cfg.MinRefresh),
		social: newSocial(cfg, clock)}
}

func invalid(format string, args ...any) error {
	return fedid.Errorf(fedid.KindNotAuthorized, "Invalid login token. "+format, args...)
}

var errNotSupportedProvider = fedid.Errorf(fedid.KindNotAuthorized, "Token is not from a supported provider of this identity pool.")

// target is what a token must satisfy for one provider.
type target struct {
	name      string // logins key
	issuers   []string
	clientIDs []string
	jwksURL   string // empty: discover from issuers[0]
	pinned    []byte
	detail    func(clientID, sub string) string
	requireID bool // Cognito user pools: an ID token, not an access token
}

var reUserPool = regexp.MustCompile(`^cognito-idp\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([a-z0-9-]+_[0-9A-Za-z]+)$`)

// VerifyLogin checks the token of the provider a pool trusts.
//
// go-oidc checks the JWS and its signature (IDTokenVerifier over the
// provider's RemoteKeySet, or a StaticKeySet for pinned keys); the checks
// of the service on top of it are fedid's own, in the order the service
// reports them (spec 3.4): algorithm, iss, signature, exp and nbf with
// c.clock, sub, token_use, aud, then azp or aud against the client IDs.
func (c *Checker) VerifyLogin(ctx context.Context, pool *fedid.Pool, provider, token string) (*fedid.VerifiedLogin, error) {
	if slices.Contains(pool.SAMLProviderARNs, provider) {
		return c.verifySAML(ctx, provider, token) // saml.go
	}
	if value, ok := pool.SupportedLoginProviders[provider]; ok && isSocial(provider) {
		return c.verifySocial(ctx, provider, value, token) // social.go: access tokens, asked of the provider
	}
	t, err := c.target(ctx, pool, provider)
	if err != nil {
		return nil, err
	}
	// Parsed before any key is fetched: a token that is not a JWS, or whose
	// iss is not this provider's, must cost no request to the provider.
	jws, err := jose.ParseSignedCompact(token, algorithms)
	if err != nil || len(jws.Signatures) != 1 {
		if alg := otherAlgorithm(token); alg != "" {
			return nil, invalid("Token signing algorithm %q is not supported.", fedid.ClipTo(alg, 16))
		}
		return nil, invalid("Not a valid OpenId Connect identity token.")
	}
	unverified, err := parseClaims(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		return nil, invalid("Not a valid OpenId Connect identity token.")
	}
	iss, _ := unverified.str("iss")
	if iss == "" {
		return nil, invalid("Missing a required claim: iss")
	}
	if !slices.Contains(t.issuers, iss) {
		return nil, invalid("Issuer doesn't match providerName")
	}
	payload, err := c.verifySignature(ctx, t, jws.Signatures[0].Header.KeyID, token)
	if err != nil {
		if unreachable(err) {
			return nil, &fedid.Error{Kind: fedid.KindExternalService, Message: provider + " is not responding", Err: err}
		}
		return nil, invalid("Token signature is invalid.")
	}
	cl, err := parseClaims(payload)
	if err != nil {
		return nil, invalid("Not a valid OpenId Connect identity token.")
	}
	now := c.clock.Now()
	exp, ok := cl.num("exp")
	if !ok {
		return nil, invalid("Missing a required claim: exp")
	}
	if now.Unix() >= exp+int64(c.cfg.Skew/time.Second) {
		return nil, invalid("Token expired: %d >= %d", now.Unix(), exp)
	}
	if nbf, ok := cl.num("nbf"); ok && now.Unix()+int64(c.cfg.Skew/time.Second) < nbf {
		return nil, invalid("Token is not valid yet: nbf %d > %d", nbf, now.Unix())
	}
	sub, _ := cl.str("sub")
	if sub == "" {
		return nil, invalid("Missing a required claim: sub")
	}
	if t.requireID {
		if use, ok := cl.str("token_use"); ok && use != "id" {
			return nil, invalid("Missing a required claim: aud")
		}
	}
	auds := cl.audiences()
	if len(auds) == 0 {
		return nil, invalid("Missing a required claim: aud")
	}
	client := ""
	if azp, ok := cl.str("azp"); ok && azp != "" {
		if slices.Contains(t.clientIDs, azp) {
			client = azp
		}
	} else {
		for _, a := range auds {
			if slices.Contains(t.clientIDs, a) {
				client = a
				break
			}
		}
	}
	if client == "" {
		return nil, errNotSupportedProvider
	}
	return &fedid.VerifiedLogin{Provider: provider, Key: sub, Detail: t.detail(client, sub), ClientID: client, Claims: cl.plain()}, nil
}

// verifySignature checks the token's signature with go-oidc against the
// provider's keys (pinned, or the JWKS at the configured or discovered URL)
// and returns its payload.
func (c *Checker) verifySignature(ctx context.Context, t *target, kid, token string) ([]byte, error) {
	var keys oidc.KeySet
	if t.pinned != nil {
		pinned, err := pinnedKeys(t.pinned, kid)
		if err != nil {
			return nil, err
		}
		keys = &oidc.StaticKeySet{PublicKeys: pinned}
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
		url := t.jwksURL
		if url == "" {
			var err error
			if url, err = c.keys.discover(ctx, t.issuers[0]); err != nil {
				return nil, err
			}
		}
		keys = c.keys.remote(url)
	}
	ks := &keptResult{KeySet: keys}
	v := oidc.NewVerifier(t.issuers[0], ks, &oidc.Config{
		SupportedSigningAlgs: algorithmNames,
		// The policy checks are fedid's (VerifyLogin): several issuer forms,
		// azp before aud, and the grace period on exp and nbf measured with
		// the injected clock.
		SkipIssuerCheck:   true,
		SkipClientIDCheck: true,
		SkipExpiryCheck:   true,
		Now:               c.clock.Now,
	})
	_, err := v.Verify(ctx, token)
	switch {
	case ks.err != nil:
		return nil, ks.err // the key set's own error: unreachable or not
	case ks.payload != nil:
		// The signature verified. Verify may still fail after that, decoding
		// the claims into its own types (exp not a number, aud neither a
		// string nor a list): fedid's checks then name the claim, as they
		// always did. On success the payload is the same, with every claim
		// (oidc.IDToken's typed fields would drop the ones passed on as
		// principal tags and to role rules).
		return ks.payload, nil
	default:
		return nil, err // refused before any key was tried
	}
}

// target resolves the logins key to the provider configuration of the
// pool.
func (c *Checker) target(ctx context.Context, pool *fedid.Pool, provider string) (*target, error) {
	if ids, ok := pool.SupportedLoginProviders[provider]; ok {
		iss, known := c.cfg.SocialIssuers[provider]
		if !known {
			return nil, fedid.Errorf(fedid.KindNotImplemented,
				"fedid cannot check %s tokens (they are not OpenID Connect ID tokens); configure an OIDC provider instead.", provider)
		}
		issuers := []string{iss}
		if provider == "accounts.google.com" && iss == DefaultSocialIssuers[provider] {
			issuers = append(issuers, "accounts.google.com") // Google issues both forms
		}
		return &target{name: provider, issuers: issuers, clientIDs: strings.Split(ids, ";"),
			detail: func(client, sub string) string { return provider + ":" + client + ":" + sub }}, nil
	}
	var clients []string
	for _, cp := range pool.CognitoIdentityProviders {
		if cp.ProviderName == provider {
			clients = append(clients, cp.ClientID)
		}
	}
	if clients != nil {
		m := reUserPool.FindStringSubmatch(provider)
		if m == nil {
			return nil, errNotSupportedProvider
		}
		endpoint := c.cfg.CognitoIdPEndpoint
		if endpoint == "" {
			endpoint = "https://cognito-idp." + m[1] + ".amazonaws.com" + m[2]
		}
		iss := endpoint + "/" + m[3]
		return &target{name: provider, issuers: []string{iss}, clientIDs: clients, jwksURL: iss + "/.well-known/jwks.json",
			requireID: true, detail: func(_, sub string) string { return provider + ":CognitoSignIn:" + sub }}, nil
	}
	for _, arn := range pool.OpenIDConnectProviderARNs {
		if _, name, ok := strings.Cut(arn, ":oidc-provider/"); !ok || name != provider {
			continue
		}
		p, err := c.providers.GetOIDCProvider(ctx, arn)
		if errors.Is(err, fedid.ErrNotFound) {
			return nil, fedid.Errorf(fedid.KindNotAuthorized, "The OpenID Connect provider %s is not registered.", fedid.Clip(arn))
		}
		if err != nil {
			return nil, fedid.Internal("get OIDC provider", err)
		}
		url := strings.TrimSuffix(p.URL, "/")
		return &target{name: provider, issuers: []string{url, fedid.OIDCProviderName(url)}, clientIDs: p.ClientIDs,
			jwksURL: p.JWKSURL, pinned: p.JWKS,
			detail: func(_, sub string) string { return arn + ":OIDC:" + sub }}, nil
	}
	return nil, errNotSupportedProvider
}
