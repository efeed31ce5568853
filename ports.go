package fedid

import (
	"context"
	"time"
)

// The ports: what the business rules (internal/identity) need from outside,
// as contracts with their value types. The adapters (internal/keys,
// internal/federation, internal/credentials) implement them importing this
// package only, and cmd/fedid's wiring hands them to identity.New, the way
// dex's connectors know the connector contract and never the server.

// TokenSigner mints and checks fedid's own OpenID tokens.
type TokenSigner interface {
	// Mint signs the claims as a compact RS512 JWS.
	Mint(c *Claims) (string, error)
	// CheckToken checks the token's form and signature against the
	// published keys and returns its claims; the caller checks issuer,
	// audience, subject and expiry.
	CheckToken(token string) (*Claims, error)
}

// VerifiedLogin is a public provider login whose token was checked.
type VerifiedLogin struct {
	Provider string
	// Key is the user key the login is linked by (the token's sub, a user
	// ID, a SAML NameID).
	Key string
	// Detail is the provider-specific amr element.
	Detail string
	// ClientID is the token's accepted audience (user pool role mappings
	// are keyed by provider and client).
	ClientID string
	// Claims are the token's claims, for role rules and principal tags
	// (of a SAML assertion: its attributes, each a string or a list).
	Claims map[string]any
	// Roles, for a SAML login, are the role ARNs the assertion's Role
	// attribute pairs with this provider; nil for other providers.
	Roles []string
}

// LoginVerifier checks public provider login tokens for a pool. Errors are
// *Error: NotAuthorized for a token that does not hold, ExternalService
// when the provider does not answer.
type LoginVerifier interface {
	VerifyLogin(ctx context.Context, pool *Pool, provider, token string) (*VerifiedLogin, error)
}

// CredentialRequest is what a credential issuer is asked for.
type CredentialRequest struct {
	Pool       *Pool
	IdentityID string
	RoleARN    string
	// Token is an OpenID token fedid minted for the identity, for issuers
	// that exchange it at an STS (AssumeRoleWithWebIdentity).
	Token string
	Tags  map[string]string
	Guest bool
}

// IssuedCredentials are temporary AWS credentials.
type IssuedCredentials struct {
	AccessKeyID  string
	SecretKey    string
	SessionToken string
	Expiration   time.Time
}

// CredentialIssuer turns an identity and a role into temporary
// credentials. Errors are *Error: InvalidIdentityPoolConfiguration when the
// role refused, ExternalService when the issuer is unreachable.
type CredentialIssuer interface {
	Issue(ctx context.Context, req *CredentialRequest) (*IssuedCredentials, error)
}

// Credential is what an access key ID resolves to when a request signed
// with it is verified (internal/auth resolves, internal/sigv4 verifies).
type Credential struct {
	// Secret is the secret access key. Secret: never logged.
	Secret  string
	Account string
	// TokenHash, for temporary credentials, is the SHA-256 of the session
	// token the request must carry in X-Amz-Security-Token.
	TokenHash []byte
	// ARN is the caller's principal (an assumed-role ARN for sessions).
	ARN string
	// Verified, when set, is called by the verifier once a request's
	// signature checks out: internal/auth records a stored key's last use
	// there, after verification so that a forged request does not count.
	Verified func()
}
