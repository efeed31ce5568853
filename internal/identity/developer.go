package identity

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/fedid/fedid"
)

// GetOpenIdTokenForDeveloperIdentity: find or create the identity of a
// developer user and mint its token.

func checkLogins(c *checks, path string, m map[string]string) {
	c.strMap(path, m, 10, shProviderKey, shLoginToken)
}

// devRequest is a GetOpenIdTokenForDeveloperIdentity request split by kind
// of login.
type devRequest struct {
	pool   *fedid.Pool
	user   string // U, the developer user identifier, or ""
	public []*fedid.VerifiedLogin
}

// GetOpenIdTokenForDeveloperIdentity finds or creates the identity of a
// developer user, links it and any public logins, and mints a token (spec
// 4.9).
func (s *Service) GetOpenIdTokenForDeveloperIdentity(ctx context.Context, c fedid.Caller, in *GetOpenIdTokenForDeveloperIdentityInput) (*TokenOutput, error) {
	var ch checks
	ch.reqStr("identityPoolId", in.IdentityPoolId, shPoolID)
	ch.str("identityId", in.IdentityId, shIdentityID)
	if in.Logins == nil {
		ch.null("logins")
	}
	checkLogins(&ch, "logins", in.Logins)
	ch.strMap("principalTags", in.PrincipalTags, 50, shTagKey, shPrincipalTV)
	ch.intRange("tokenDuration", in.TokenDuration, 1, MaxDeveloperTokenTTLSec)
	if err := ch.err(); err != nil {
		return nil, err
	}
	pool, err := s.cachedPool(ctx, c, *in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	req := devRequest{pool: pool}
	var public map[string]string // most calls carry the developer login alone
	for k, v := range in.Logins {
		switch {
		case k == CognitoIdentityProviderName:
			return nil, errCognitoToken
		case pool.DeveloperProviderName != "" && k == pool.DeveloperProviderName:
			req.user = v
		case looksPublic(k) || trusts(pool, k):
			if public == nil {
				public = map[string]string{}
			}
			public[k] = v
		default:
			return nil, errUnsupportedDev
		}
	}
	if req.user == "" && len(public) == 0 {
		return nil, errUnsupportedDev
	}
	if utf8.RuneCountInString(req.user) > 1024 {
		return nil, fedid.Errorf(fedid.KindInvalidParameter,
			"The developer user identifier must be at most 1024 characters long.")
	}
	if req.public, err = s.verifyPublic(ctx, pool, public); err != nil {
		return nil, err
	}
	ttl := DefaultDeveloperTTL
	if in.TokenDuration != nil {
		ttl = time.Duration(*in.TokenDuration) * time.Second
	}
	var x *fedid.Identity
	if in.IdentityId == nil && len(req.public) == 0 {
		// Hot path: a known developer user needs one indexed read, a new
		// one that read and one write.
		owner, err := findLogin(ctx, s.store, pool.ID, pool.DeveloperProviderName, req.user)
		if err != nil {
			return nil, err
		}
		if owner != "" {
			x = &fedid.Identity{ID: owner, PoolID: pool.ID}
		} else if x, err = s.newDeveloperUser(ctx, pool, req.user); err != nil {
			return nil, err
		}
	}
	if x == nil {
		if x, err = s.resolveDeveloper(ctx, &req, in.IdentityId); err != nil {
			return nil, err
		}
	}
	amr := make([]string, 1, 3+2*len(req.public))
	amr[0] = "authenticated"
	if req.user != "" {
		amr = append(amr, pool.DeveloperProviderName, pool.DeveloperProviderName+":"+pool.ID+":"+req.user)
	}
	for _, l := range req.public {
		amr = append(amr, l.Provider, l.Detail)
	}
	tok, err := s.mint(pool, x.ID, amr, in.PrincipalTags, ttl)
	if err != nil {
		return nil, err
	}
	return &TokenOutput{IdentityId: x.ID, Token: tok}, nil
}

// newDeveloperUser creates the identity of a developer user that the read
// before found on no identity: the identity and its login in one write,
// with no transaction around reads (one statement on PostgreSQL). It
// returns nil, nil when the general path must decide: a concurrent call
// linked the user meanwhile (ErrDuplicate), or the pool is gone.
func (s *Service) newDeveloperUser(ctx context.Context, pool *fedid.Pool, user string) (*fedid.Identity, error) {
	now := s.now()
	x := &fedid.Identity{ID: fedid.NewIdentityID(pool.Region), PoolID: pool.ID, Authenticated: true, CreatedAt: now, ModifiedAt: now,
		Logins: []fedid.Login{{Provider: pool.DeveloperProviderName, Key: user, Developer: true, LinkedAt: now}}}
	switch err := s.store.CreateIdentity(ctx, x); {
	case err == nil:
		return x, nil
	case errors.Is(err, fedid.ErrDuplicate), errors.Is(err, fedid.ErrNotFound):
		return nil, nil
	default:
		return nil, storeErr("create identity", err)
	}
}

// resolveDeveloper runs the write path of GetOpenIdTokenForDeveloperIdentity
// in a transaction, retrying when a concurrent call won a uniqueness race.
func (s *Service) resolveDeveloper(ctx context.Context, req *devRequest, identityID *string) (*fedid.Identity, error) {
	var out *fedid.Identity
	err := s.updateRetry(ctx, "developer identity", func(tx fedid.Tx) error {
		x, err := s.resolveDeveloperTx(ctx, tx, req, identityID)
		out = x
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) resolveDeveloperTx(ctx context.Context, tx fedid.Tx, req *devRequest, identityID *string) (*fedid.Identity, error) {
	// The pool came from the cache: make sure it still exists.
	pool, err := tx.GetPool(ctx, req.pool.ID)
	if errors.Is(err, fedid.ErrNotFound) {
		return nil, errPoolNotFound(req.pool.ID)
	}
	if err != nil {
		return nil, err
	}
	dev := pool.DeveloperProviderName
	var x *fedid.Identity
	if identityID != nil {
		var err error
		if x, err = getIdentity(ctx, tx, pool.ID, *identityID); err != nil {
			return nil, err
		}
		if st := x.State(); st == fedid.StateDisabled || st == fedid.StateInaccessible {
			return nil, errDisabled(x.ID)
		}
	}
	needUser := false
	if req.user != "" {
		owner, err := findLogin(ctx, tx, pool.ID, dev, req.user)
		if err != nil {
			return nil, err
		}
		switch {
		case x != nil && owner != "" && owner != x.ID:
			return nil, fedid.Errorf(fedid.KindDeveloperUserAlreadyRegistered,
				"Developer user identifier is already registered with a different identity.")
		case x != nil && owner == "" && x.State() == fedid.StateAuthenticated:
			// Linking a new developer user to an authenticated identity
			// needs proof: another login of the request already on it.
			if !holdsAny(ctx, tx, x, req.public) {
				return nil, errLoginsMismatch
			}
			needUser = true
		case x != nil && owner == "":
			needUser = true
		case x == nil && owner != "":
			var err error
			if x, err = getIdentity(ctx, tx, pool.ID, owner); err != nil {
				return nil, err
			}
		default:
			needUser = x == nil
		}
	}
	now := s.now()
	if x == nil {
		// A public login already linked elsewhere decides the identity.
		for _, l := range req.public {
			owner, err := findLogin(ctx, tx, pool.ID, l.Provider, l.Key)
			if err != nil {
				return nil, err
			}
			if owner != "" {
				if x, err = getIdentity(ctx, tx, pool.ID, owner); err != nil {
					return nil, err
				}
				break
			}
		}
	}
	if x == nil {
		x = &fedid.Identity{
			ID: fedid.NewIdentityID(pool.Region), PoolID: pool.ID,
			Authenticated: true, CreatedAt: now, ModifiedAt: now,
		}
		if needUser {
			x.Logins = append(x.Logins, fedid.Login{Provider: dev, Key: req.user, Developer: true, LinkedAt: now})
			needUser = false
		}
		if err := tx.CreateIdentity(ctx, x); err != nil {
			return nil, err
		}
	}
	if needUser {
		if err := canAdd(x, dev, req.user, 1); err != nil {
			return nil, err
		}
		l := fedid.Login{Provider: dev, Key: req.user, Developer: true, LinkedAt: now}
		if err := tx.AddLogin(ctx, pool.ID, x.ID, l); err != nil {
			return nil, err
		}
		x.Logins = append(x.Logins, l)
		x.Authenticated = true
		x.ModifiedAt = now
		if err := tx.UpdateIdentity(ctx, x); err != nil {
			return nil, err
		}
	}
	return s.linkLogins(ctx, tx, x, req.public, false)
}

// holdsAny reports whether x already holds one of the logins.
func holdsAny(ctx context.Context, r fedid.Reader, x *fedid.Identity, logins []*fedid.VerifiedLogin) bool {
	for _, l := range logins {
		for _, h := range x.Logins {
			if h.Provider == l.Provider && h.Key == l.Key {
				return true
			}
		}
	}
	return false
}
