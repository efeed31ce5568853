// Package identity holds the business rules of every cognito-identity
// operation: validation against the service model, pools, identities,
// linking, merging and token claims, over a fedid.Store.
package identity

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/fedid/fedid"
)

// Quotas and defaults of the service (spec 3.6).
const (
	MaxPoolsPerAccount      = 1000
	MaxTagsPerPool          = 50
	MaxCognitoProviders     = 50
	MaxLoginsPerIdentity    = 20
	DefaultDeveloperTTL     = 900 * time.Second
	DefaultOpenIDTokenTTL   = 600 * time.Second
	MaxDeveloperTokenTTLSec = 86400
)

// Config configures a Service.
type Config struct {
	// Issuer is the iss claim of minted tokens.
	Issuer string
	// OpenIDTokenTTL is the lifetime of GetOpenIdToken tokens (default 600 s).
	OpenIDTokenTTL time.Duration
	// MaxPools is the per-account, per-region pool quota (default 1000).
	MaxPools int
}

// Service implements the operations.
type Service struct {
	store  fedid.Store
	signer fedid.TokenSigner
	clock  fedid.Clock
	cfg    Config
	logins fedid.LoginVerifier
	creds  fedid.CredentialIssuer
	// pools caches pools for the token fast path only; every write path
	// reads the pool again inside its transaction.
	pools PoolCache
}

// Deps are what the rules work over: the store and the ports (at the root,
// implemented by the adapters), and the clock.
type Deps struct {
	Store  fedid.Store
	Signer fedid.TokenSigner
	// Logins checks public provider tokens; nil refuses them
	// (NotImplemented).
	Logins fedid.LoginVerifier
	// Credentials issues AWS credentials; nil refuses
	// GetCredentialsForIdentity.
	Credentials fedid.CredentialIssuer
	// Clock defaults to the system clock.
	Clock fedid.Clock
	// Pools caches pools read on the token fast path (PoolCacheTTL late at
	// most); nil caches nothing.
	Pools PoolCache
}

// PoolCache keeps pools read on the token fast path, entries expiring
// after PoolCacheTTL (fedid's wiring uses internal/ttlcache).
type PoolCache interface {
	Get(id string) (*fedid.Pool, bool)
	Put(id string, p *fedid.Pool)
	Delete(id string)
	// Clear forgets every pool.
	Clear()
}

type noPoolCache struct{}

func (noPoolCache) Get(string) (*fedid.Pool, bool) { return nil, false }
func (noPoolCache) Put(string, *fedid.Pool)        {}
func (noPoolCache) Delete(string)                  {}
func (noPoolCache) Clear()                         {}

// PoolCacheTTL is how late the token fast path may see a pool change
// (only pool deletion matters there, and a deleted pool's logins are gone
// at once, which sends the request down the write path).
const PoolCacheTTL = 2 * time.Second

// New returns the Service over its dependencies.
func New(d Deps, cfg Config) *Service {
	if cfg.OpenIDTokenTTL <= 0 {
		cfg.OpenIDTokenTTL = DefaultOpenIDTokenTTL
	}
	if cfg.MaxPools <= 0 {
		cfg.MaxPools = MaxPoolsPerAccount
	}
	if d.Clock == nil {
		d.Clock = fedid.SystemClock{}
	}
	if d.Logins == nil {
		d.Logins = noPublicLogins{}
	}
	if d.Pools == nil {
		d.Pools = noPoolCache{}
	}
	return &Service{store: d.Store, signer: d.Signer, clock: d.Clock, cfg: cfg, logins: d.Logins, creds: d.Credentials, pools: d.Pools}
}

func (s *Service) now() time.Time { return s.clock.Now().UTC() }

// errPoolNotFound is the observed wording for a missing pool.
func errPoolNotFound(id string) error {
	return fedid.Errorf(fedid.KindResourceNotFound, "IdentityPool '%s' not found.", id)
}

func errIdentityNotFound(id string) error {
	return fedid.Errorf(fedid.KindResourceNotFound, "Identity '%s' not found.", id)
}

// regionOf returns the region prefix of a pool or identity ID.
func regionOf(id string) string {
	r, _, _ := strings.Cut(id, ":")
	return r
}

// callerPool reads a pool the caller may see: its own account and the
// region it signed for. Anything else looks exactly like a missing pool.
// readPool validates a request's pool ID and reads the caller's pool: the
// start of every read-only pool operation.
func (s *Service) readPool(ctx context.Context, c fedid.Caller, id *string) (*fedid.Pool, error) {
	var ch checks
	ch.reqStr("identityPoolId", id, shPoolID)
	if err := ch.err(); err != nil {
		return nil, err
	}
	return callerPool(ctx, s.store, c, *id)
}

func callerPool(ctx context.Context, r fedid.Reader, c fedid.Caller, id string) (*fedid.Pool, error) {
	if regionOf(id) != c.Region {
		return nil, errPoolNotFound(id)
	}
	p, err := r.GetPool(ctx, id)
	if errors.Is(err, fedid.ErrNotFound) {
		return nil, errPoolNotFound(id)
	}
	if err != nil {
		return nil, fedid.Internal("get pool", err)
	}
	if p.Account != c.Account {
		return nil, errPoolNotFound(id)
	}
	return p, nil
}

// cachedPool is callerPool through the pool cache.
func (s *Service) cachedPool(ctx context.Context, c fedid.Caller, id string) (*fedid.Pool, error) {
	if p, ok := s.pools.Get(id); ok && p.Account == c.Account && p.Region == c.Region {
		return p, nil
	}
	p, err := callerPool(ctx, s.store, c, id)
	if err == nil {
		s.pools.Put(id, p)
	}
	return p, err
}

// storeErr turns an unexpected store error into an internal error, keeping
// domain errors as they are.
func storeErr(op string, err error) error {
	var fe *fedid.Error
	if errors.As(err, &fe) {
		return err
	}
	return fedid.Internal(op, err)
}

// Pagination tokens are opaque to clients: a version tag, the scope they
// belong to (account+region, or pool) and the keyset position.
const tokenVersion = "v1"

func encodeCursor(scope string, c fedid.Cursor) string {
	raw := tokenVersion + "\n" + scope + "\n" + strconv.FormatInt(c.CreatedAt.UnixNano(), 10) + "\n" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func errBadToken() error {
	return fedid.Errorf(fedid.KindInvalidParameter, "Invalid pagination token.")
}

// decodeCursor parses a token made by encodeCursor for the same scope.
func decodeCursor(scope string, tok *string) (fedid.Cursor, error) {
	if tok == nil {
		return fedid.Cursor{}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	if err != nil {
		return fedid.Cursor{}, errBadToken()
	}
	parts := strings.Split(string(raw), "\n")
	if len(parts) != 4 || parts[0] != tokenVersion || parts[1] != scope || parts[3] == "" {
		return fedid.Cursor{}, errBadToken()
	}
	ns, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return fedid.Cursor{}, errBadToken()
	}
	return fedid.Cursor{CreatedAt: time.Unix(0, ns).UTC(), ID: parts[3]}, nil
}

// maxResults returns the page size of an optional MaxResults (already
// range-checked), defaulting to 60.
func maxResults(v *int64) int {
	if v == nil {
		return 60
	}
	return int(*v)
}
