// Package fedid is the domain of fedid, a self-hosted implementation of AWS
// Cognito Identity (identity pools, API 2014-06-30): identity pools,
// identities and their logins, access keys, signing keys, the Store contract
// that every storage backend implements, and the one Error type.
//
// It imports nothing of the project; adapters live under internal/ and
// cmd/fedid wires them together.
package fedid

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// DefaultAccountID is the account of the built-in loopback test key.
const DefaultAccountID = "000000000000"

// Partition is the ARN partition of every resource fedid names.
const Partition = "aws"

// CognitoProvider is one Cognito user pool an identity pool trusts.
type CognitoProvider struct {
	ProviderName         string `json:"ProviderName,omitempty"`
	ClientID             string `json:"ClientId,omitempty"`
	ServerSideTokenCheck bool   `json:"ServerSideTokenCheck"`
}

// Pool is an identity pool with everything stored about it. Configuration
// members that later operations add (roles, role mappings, principal tag
// maps) live here too, so one optimistic write covers the whole pool.
type Pool struct {
	ID      string
	Account string
	Region  string
	Name    string

	AllowUnauthenticated bool
	// AllowClassicFlow is tri-state: nil means never set, which does not
	// block the basic flow; only an explicit false does.
	AllowClassicFlow          *bool
	SupportedLoginProviders   map[string]string
	DeveloperProviderName     string
	OpenIDConnectProviderARNs []string
	CognitoIdentityProviders  []CognitoProvider
	SAMLProviderARNs          []string
	Tags                      map[string]string

	// Roles maps "authenticated" / "unauthenticated" to a role ARN.
	Roles map[string]string
	// Extra holds configuration added by later operations as raw JSON
	// documents keyed by name (role mappings, principal tag maps). The store
	// persists it opaquely.
	Extra map[string][]byte

	CreatedAt time.Time
	// Version increases by one on every write; UpdatePool stores only when
	// the stored version is Version-1.
	Version int64
}

// ARN returns the pool's ARN:
// arn:aws:cognito-identity:<region>:<account>:identitypool/<pool id>.
func (p *Pool) ARN() string {
	return PoolARN(p.Region, p.Account, p.ID)
}

// PoolARN formats an identity pool ARN.
func PoolARN(region, account, poolID string) string {
	return "arn:" + Partition + ":cognito-identity:" + region + ":" + account + ":identitypool/" + poolID
}

// Login is one login linked to an identity: a public provider's user, or a
// developer user identifier of the pool's developer provider.
type Login struct {
	// Provider is the provider name (the Logins map key), or the pool's
	// developer provider name when Developer is set.
	Provider string
	// Key is the provider's user key (the token's sub, a user ID, a SAML
	// NameID) or the developer user identifier.
	Key       string
	Developer bool
	LinkedAt  time.Time
}

// NewIdentityID returns a new identity ID of a pool in region, as the
// service makes them: "<region>:<lowercase random UUID (version 4)>".
// (Time-ordered UUIDs of version 7 would make inserts cheaper at millions
// of identities, and were measured: the service's format wins; fedid seed
// orders its random IDs instead.)
func NewIdentityID(region string) string { return region + ":" + uuid.NewString() }

// Identity is one identity of a pool with its logins.
type Identity struct {
	ID     string
	PoolID string
	// Authenticated is set once a login was ever linked. An authenticated
	// identity without logins is inaccessible.
	Authenticated bool
	// Disabled is set when the identity was merged into another one.
	Disabled   bool
	CreatedAt  time.Time
	ModifiedAt time.Time
	// Logins in the order they were linked.
	Logins []Login
}

// State is the token-relevant state of an identity.
type State uint8

// Identity states (spec 3.2).
const (
	StateUnauthenticated State = iota
	StateAuthenticated
	StateDisabled
	StateInaccessible
)

// State derives the identity's state from its flags and logins.
func (id *Identity) State() State {
	switch {
	case id.Disabled:
		return StateDisabled
	case !id.Authenticated:
		return StateUnauthenticated
	case len(id.Logins) == 0:
		return StateInaccessible
	default:
		return StateAuthenticated
	}
}

// AccessKey is a developer credential; its account owns every resource it
// creates.
type AccessKey struct {
	ID      string
	Secret  string
	Account string
	Created time.Time
	// LastUsed is when a request signed with the key was last verified, as
	// last recorded (auth writes it at most once a minute per key); zero
	// when never used since it was recorded.
	LastUsed time.Time
}

// String keeps the secret out of logs and error messages.
func (k AccessKey) String() string { return "AccessKey{" + k.ID + " account " + k.Account + "}" }

// Caller is the authenticated principal of a signed request.
type Caller struct {
	AccessKeyID string
	Account     string
	// Region is the region of the request's SigV4 credential scope.
	Region string
	// ARN is the caller's principal: the account root for access keys,
	// the assumed-role ARN for temporary credentials.
	ARN string
	// Session is set for temporary credentials fedid issued.
	Session bool
}

// SigningKey is one RSA key that signs OpenID tokens.
type SigningKey struct {
	// ID is the JWS kid, "<region>-<n>".
	ID  string
	Seq int64
	// PrivateKey is the PKCS#8 DER encoding of the RSA private key. Secret:
	// never logged.
	PrivateKey []byte
	CreatedAt  time.Time
	// ActiveAt is when the key may start signing (keys can be published
	// before use).
	ActiveAt time.Time
	// RetiredAt is when a newer key took over signing; zero while current.
	RetiredAt time.Time
	// ExpiresAt is when the key leaves the JWKS: RetiredAt plus the longest
	// token lifetime. Zero while current.
	ExpiresAt time.Time
}

// String keeps the private key out of logs and error messages.
func (k SigningKey) String() string { return "SigningKey{" + k.ID + "}" }

// Clock tells the time; tests inject a fixed one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// Claims are the claims of an OpenID token fedid issues (spec 5.2).
type Claims struct {
	Subject  string // the identity ID
	Audience string // the identity pool ID
	AMR      []string
	// PrincipalTags become {"principal_tags": {k: [v]}} under the
	// https://aws.amazon.com/tags claim; omitted when empty.
	PrincipalTags map[string]string
	Issuer        string
	PoolARN       string
	IssuedAt      time.Time
	ExpiresAt     time.Time
}

// OIDCProvider is an OpenID Connect identity provider registered for an
// account, the way IAM registers them; pools trust it by its ARN.
type OIDCProvider struct {
	// ARN is arn:aws:iam::<account>:oidc-provider/<host and path of URL>.
	ARN     string
	Account string
	// URL is the issuer, https://host[/path], exactly as tokens carry it
	// in iss.
	URL         string
	ClientIDs   []string
	Thumbprints []string
	// JWKSURL, when set, is used instead of the discovery document's
	// jwks_uri; JWKS, when set, pins the keys (no fetching at all).
	JWKSURL   string
	JWKS      []byte
	CreatedAt time.Time
}

// Name is the logins key of the provider: the URL without its scheme.
func (p *OIDCProvider) Name() string { return OIDCProviderName(p.URL) }

// OIDCProviderName strips the scheme from an issuer URL.
func OIDCProviderName(url string) string {
	for _, scheme := range []string{"https://", "http://"} {
		if len(url) > len(scheme) && url[:len(scheme)] == scheme {
			return url[len(scheme):]
		}
	}
	return url
}

// OIDCProviderARN is the ARN of an OIDC provider of an account.
func OIDCProviderARN(account, url string) string {
	return "arn:" + Partition + ":iam::" + account + ":oidc-provider/" + OIDCProviderName(url)
}

// Session is a set of temporary credentials fedid issued for an identity
// (GetCredentialsForIdentity in local mode): an ASIA access key, its
// secret, and the hash of its session token.
type Session struct {
	AccessKeyID string
	// Secret is the secret access key. Secret: never logged.
	Secret string
	// TokenHash is the SHA-256 of the session token; the token itself is
	// not stored.
	TokenHash  []byte
	Account    string
	RoleARN    string
	IdentityID string
	PoolID     string
	Tags       map[string]string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// String keeps the secret out of logs.
func (s Session) String() string { return "Session{" + s.AccessKeyID + " " + s.RoleARN + "}" }

// SessionName is the role session name of credentials for identities, as
// the service names them.
const SessionName = "CognitoIdentityCredentials"

// AssumedRoleARN is the ARN of a role session:
// arn:aws:sts::<account>:assumed-role/<role name>/<session name>.
func AssumedRoleARN(roleARN string) string {
	account, name := "", roleARN
	if parts := strings.SplitN(roleARN, ":", 6); len(parts) == 6 {
		account = parts[4]
		name = parts[5]
	}
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return "arn:" + Partition + ":sts::" + account + ":assumed-role/" + name + "/" + SessionName
}
