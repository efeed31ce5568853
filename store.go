package fedid

import (
	"context"
	"time"
)

// Cursor is a keyset position in a list ordered by creation time, then ID.
// The zero Cursor means "from the start".
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// IsZero reports whether c is the start position.
func (c Cursor) IsZero() bool { return c.ID == "" && c.CreatedAt.IsZero() }

// Reader is the read side of a Store. Every method returns ErrNotFound
// (possibly wrapped) when the asked-for row does not exist.
type Reader interface {
	// GetAccessKey returns the access key with the given ID.
	GetAccessKey(ctx context.Context, id string) (*AccessKey, error)
	// GetPool returns a pool by ID, whatever its account.
	GetPool(ctx context.Context, id string) (*Pool, error)
	// ListPools lists the pools of an account in a region in (CreatedAt, ID)
	// order, starting strictly after the cursor, at most limit of them.
	// With account "", it lists every account's pools in every region.
	ListPools(ctx context.Context, account, region string, after Cursor, limit int) ([]*Pool, error)
	// CountPools counts the pools of an account in a region.
	CountPools(ctx context.Context, account, region string) (int, error)
	// GetIdentity returns an identity with its logins in link order (those
	// linked at one instant by provider, then key).
	GetIdentity(ctx context.Context, id string) (*Identity, error)
	// FindLogin returns the ID of the identity of pool poolID that holds the
	// login (provider, key).
	FindLogin(ctx context.Context, poolID, provider, key string) (string, error)
	// ListIdentities lists a pool's identities in (CreatedAt, ID) order,
	// strictly after the cursor, at most limit, with their logins. With
	// hideDisabled, disabled and inaccessible identities are left out.
	// IDs of one instant are in the order of their strings when they are
	// IDs as fedid makes them ("<region>:<lowercase UUID>"); other IDs in
	// an order of the store's own, the same on every call.
	ListIdentities(ctx context.Context, poolID string, after Cursor, limit int, hideDisabled bool) ([]*Identity, error)
	// SigningKeys returns every stored signing key in Seq order.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
}

// Tx is one write transaction. Its reads see its own writes. Writes that
// break a uniqueness rule return ErrDuplicate; the transaction can then only
// be abandoned (return the error from the Update function).
type Tx interface {
	Reader

	// CreatePool stores a new pool with Version 1.
	CreatePool(ctx context.Context, p *Pool) error
	// UpdatePool replaces a pool whose stored version is p.Version-1;
	// ErrVersion otherwise, ErrNotFound when it is gone.
	UpdatePool(ctx context.Context, p *Pool) error
	// DeletePool deletes a pool with all its identities and logins.
	DeletePool(ctx context.Context, id string) error

	// CreateIdentity stores a new identity with its logins. Its ID is
	// "<region>:<rest>", region that of its pool (ErrNotFound when it is
	// not, or there is no such pool); an ID whose rest is another's, in
	// another region, is taken. Lookups by an ID of another region than
	// its identity's find nothing.
	// Unique: (pool, provider, key) over all logins, and at most one
	// non-developer login per (identity, provider).
	CreateIdentity(ctx context.Context, id *Identity) error
	// UpdateIdentity writes Authenticated, Disabled and ModifiedAt.
	UpdateIdentity(ctx context.Context, id *Identity) error
	// DeleteIdentity deletes an identity and its logins.
	DeleteIdentity(ctx context.Context, id string) error
	// AddLogin links a login to an identity of pool poolID.
	AddLogin(ctx context.Context, poolID, identityID string, l Login) error
	// RemoveLogin unlinks the login (provider, key) from an identity;
	// ErrNotFound when the identity does not hold it.
	RemoveLogin(ctx context.Context, identityID, provider, key string) error
	// MoveLogins moves every login of identity from to identity to, keeping
	// their link times.
	MoveLogins(ctx context.Context, from, to string) error
	// Reset deletes every pool with its identities and logins, every OIDC
	// and SAML provider and every session; access keys and signing keys
	// stay.
	Reset(ctx context.Context) error
}

// Store is fedid's storage contract. Business rules live in
// internal/identity; a Store only persists and enforces uniqueness.
type Store interface {
	Reader

	// Update runs fn in one write transaction and commits when fn returns
	// nil. Transient conflicts of the backend (busy, serialization) are
	// retried by the store; fn must therefore be safe to run again.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// CreateIdentity creates an identity with its logins as Update with
	// Tx.CreateIdentity would, in as few round trips as the backend
	// allows: ErrNotFound when its pool is missing, ErrDuplicate when one
	// of its logins is linked already (nothing is written then).
	CreateIdentity(ctx context.Context, x *Identity) error

	// PutAccessKey stores or replaces an access key.
	PutAccessKey(ctx context.Context, k AccessKey) error
	// CountAccessKeys counts the stored access keys.
	CountAccessKeys(ctx context.Context) (int, error)
	// ListAccessKeys lists every stored access key, newest first (Created
	// descending, then ID descending), without its secret.
	ListAccessKeys(ctx context.Context) ([]AccessKey, error)
	// DeleteAccessKey deletes an access key; ErrNotFound when absent.
	DeleteAccessKey(ctx context.Context, id string) error
	// TouchAccessKey records that the key was used at t, keeping the later
	// of t and the stored value; a key that no longer exists is no error
	// (it may have been deleted since the request).
	TouchAccessKey(ctx context.Context, id string, t time.Time) error

	// PutOIDCProvider stores or replaces an OIDC provider (by ARN).
	PutOIDCProvider(ctx context.Context, p OIDCProvider) error
	// GetOIDCProvider returns an OIDC provider by ARN.
	GetOIDCProvider(ctx context.Context, arn string) (*OIDCProvider, error)
	// ListOIDCProviders lists an account's OIDC providers by ARN; with
	// account "", every account's.
	ListOIDCProviders(ctx context.Context, account string) ([]OIDCProvider, error)
	// DeleteOIDCProvider deletes an OIDC provider; ErrNotFound when absent.
	DeleteOIDCProvider(ctx context.Context, arn string) error

	// PutSAMLProvider stores or replaces a SAML provider (by ARN).
	PutSAMLProvider(ctx context.Context, p SAMLProvider) error
	// GetSAMLProvider returns a SAML provider by ARN.
	GetSAMLProvider(ctx context.Context, arn string) (*SAMLProvider, error)
	// ListSAMLProviders lists an account's SAML providers by ARN; with
	// account "", every account's.
	ListSAMLProviders(ctx context.Context, account string) ([]SAMLProvider, error)
	// DeleteSAMLProvider deletes a SAML provider; ErrNotFound when absent.
	DeleteSAMLProvider(ctx context.Context, arn string) error

	// PutSession stores temporary credentials fedid issued.
	PutSession(ctx context.Context, s Session) error
	// GetSession returns the session of an access key ID.
	GetSession(ctx context.Context, accessKeyID string) (*Session, error)
	// DeleteSessionsBefore deletes the sessions that expired before t and
	// returns how many.
	DeleteSessionsBefore(ctx context.Context, t time.Time) (int, error)

	// UpdateSigningKeys reads the stored keys, calls fn with them and stores
	// exactly the set fn returns, atomically: of several callers racing
	// (several instances on one database), each fn sees what the previous
	// one stored.
	UpdateSigningKeys(ctx context.Context, fn func(keys []SigningKey) ([]SigningKey, error)) error

	// Close releases the store's resources.
	Close() error
}
