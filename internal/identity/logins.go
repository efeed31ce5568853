package identity

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/fedid/fedid"
)

// noPublicLogins is the verifier until public providers are supported: it
// refuses clearly rather than trusting a token it cannot check.
type noPublicLogins struct{}

func (noPublicLogins) VerifyLogin(context.Context, *fedid.Pool, string, string) (*fedid.VerifiedLogin, error) {
	return nil, fedid.Errorf(fedid.KindNotImplemented,
		"fedid does not check public provider login tokens yet; only developer-authenticated logins are supported in this version.")
}

var (
	errCognitoToken   = fedid.Errorf(fedid.KindNotAuthorized, "Invalid login token. Can't pass in a Cognito token.")
	errLoginsMismatch = fedid.Errorf(fedid.KindNotAuthorized, "Logins don't match. Please include at least one valid login for this identity or identity pool.")
	errUnsupportedDev = fedid.Errorf(fedid.KindNotAuthorized, "This identity pool does not support the specified developer provider.")
	errUntrusted      = fedid.Errorf(fedid.KindNotAuthorized, "Token is not from a supported provider of this identity pool.")
	errTooManyLogins  = fedid.Errorf(fedid.KindResourceConflict, "Number of linked logins exceeds the limit of %d.", MaxLoginsPerIdentity)
	errGuestsOff      = fedid.Errorf(fedid.KindNotAuthorized, "Unauthenticated access is not supported for this identity pool.")
)

func errDisabled(id string) error {
	return fedid.Errorf(fedid.KindNotAuthorized, "Identity '%s' is disabled.", id)
}

// trusts reports whether the pool is configured for the public provider
// name (a logins key).
func trusts(p *fedid.Pool, provider string) bool {
	if _, ok := p.SupportedLoginProviders[provider]; ok {
		return true
	}
	for _, c := range p.CognitoIdentityProviders {
		if c.ProviderName == provider {
			return true
		}
	}
	for _, a := range p.OpenIDConnectProviderARNs {
		if _, name, ok := strings.Cut(a, ":oidc-provider/"); ok && name == provider {
			return true
		}
	}
	return slices.Contains(p.SAMLProviderARNs, provider)
}

// looksPublic reports whether a logins key names a public provider kind, as
// opposed to a developer provider name.
func looksPublic(provider string) bool {
	return PublicProviders[provider] || reUserPoolIssuer.MatchString(provider) ||
		strings.HasPrefix(provider, "arn:") || strings.Contains(provider, "/")
}

// verifyPublic checks every public login of a request.
func (s *Service) verifyPublic(ctx context.Context, p *fedid.Pool, logins map[string]string) ([]*fedid.VerifiedLogin, error) {
	if len(logins) == 0 {
		return nil, nil
	}
	names := sortedKeys(logins)
	out := make([]*fedid.VerifiedLogin, 0, len(names))
	for _, name := range names {
		if !trusts(p, name) {
			return nil, errUntrusted
		}
		v, err := s.logins.VerifyLogin(ctx, p, name, logins[name])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// getIdentity reads an identity of a given pool (or of any pool when
// poolID is empty).
func getIdentity(ctx context.Context, r fedid.Reader, poolID, id string) (*fedid.Identity, error) {
	x, err := r.GetIdentity(ctx, id)
	if errors.Is(err, fedid.ErrNotFound) || (err == nil && poolID != "" && x.PoolID != poolID) {
		return nil, errIdentityNotFound(id)
	}
	if err != nil {
		return nil, fedid.Internal("get identity", err)
	}
	return x, nil
}

// findLogin returns the ID of the identity holding a login, or "".
func findLogin(ctx context.Context, r fedid.Reader, poolID, provider, key string) (string, error) {
	id, err := r.FindLogin(ctx, poolID, provider, key)
	if errors.Is(err, fedid.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fedid.Internal("find login", err)
	}
	return id, nil
}

// linkLogins links new public logins to identity x inside tx, merging
// identities that already own one of them (spec 6.6), and returns the
// surviving identity. Logins already on x are left alone. Between two
// authenticated identities the owner of the presented login survives,
// unless keepX (GetId, where x is the oldest owner).
func (s *Service) linkLogins(ctx context.Context, tx fedid.Tx, x *fedid.Identity, logins []*fedid.VerifiedLogin, keepX bool) (*fedid.Identity, error) {
	now := s.now()
	changed := false
	for _, l := range logins {
		owner, err := findLogin(ctx, tx, x.PoolID, l.Provider, l.Key)
		if err != nil {
			return nil, err
		}
		switch {
		case owner == x.ID:
			continue
		case owner != "":
			other, err := getIdentity(ctx, tx, x.PoolID, owner)
			if err != nil {
				return nil, err
			}
			// Authenticated beats guest; between two authenticated
			// identities the owner of the presented login wins.
			winner, loser := other, x
			if x.State() == fedid.StateAuthenticated && (keepX || other.State() != fedid.StateAuthenticated) {
				winner, loser = x, other
			}
			if err := s.merge(ctx, tx, winner, loser); err != nil {
				return nil, err
			}
			x = winner
		default:
			if err := canAdd(x, l.Provider, l.Key, 1); err != nil {
				return nil, err
			}
			login := fedid.Login{Provider: l.Provider, Key: l.Key, LinkedAt: now}
			if err := tx.AddLogin(ctx, x.PoolID, x.ID, login); err != nil {
				return nil, err
			}
			x.Logins = append(x.Logins, login)
			changed = true
		}
	}
	if changed {
		x.Authenticated = true
		x.ModifiedAt = now
		if err := tx.UpdateIdentity(ctx, x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// canAdd checks that n more logins, one of them (provider, key), fit on x:
// one login per public provider, at most 20 in all.
func canAdd(x *fedid.Identity, provider, key string, n int) error {
	for _, l := range x.Logins {
		if !l.Developer && l.Provider == provider && l.Key != key {
			return fedid.Errorf(fedid.KindResourceConflict, "Only one login per provider may be linked to an identity.")
		}
	}
	if len(x.Logins)+n > MaxLoginsPerIdentity {
		return errTooManyLogins
	}
	return nil
}

// merge moves every login of loser to winner and disables loser (spec 6.6).
func (s *Service) merge(ctx context.Context, tx fedid.Tx, winner, loser *fedid.Identity) error {
	for _, l := range loser.Logins {
		if l.Developer {
			continue
		}
		for _, w := range winner.Logins {
			if !w.Developer && w.Provider == l.Provider && w.Key != l.Key {
				return fedid.Errorf(fedid.KindResourceConflict,
					"The identities hold logins of provider '%s' for different users and cannot be merged.", l.Provider)
			}
		}
	}
	if len(winner.Logins)+len(loser.Logins) > MaxLoginsPerIdentity {
		return errTooManyLogins
	}
	if err := tx.MoveLogins(ctx, loser.ID, winner.ID); err != nil {
		return err
	}
	now := s.now()
	winner.Logins = append(winner.Logins, loser.Logins...)
	winner.Authenticated = winner.Authenticated || loser.Authenticated
	winner.ModifiedAt = now
	loser.Logins = nil
	loser.Disabled = true
	loser.ModifiedAt = now
	if err := tx.UpdateIdentity(ctx, winner); err != nil {
		return err
	}
	return tx.UpdateIdentity(ctx, loser)
}
