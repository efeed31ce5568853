package identity

import (
	"context"
	"errors"
	"time"

	"github.com/fedid/fedid"
)

// Tokens for known identities: GetOpenIdToken, and the authentication it
// shares with GetCredentialsForIdentity.

// mint signs a token for an identity of pool (spec 5.2).
func (s *Service) mint(pool *fedid.Pool, identityID string, amr []string, tags map[string]string, ttl time.Duration) (string, error) {
	now := s.now()
	tok, err := s.signer.Mint(&fedid.Claims{
		Subject:       identityID,
		Audience:      pool.ID,
		AMR:           amr,
		PrincipalTags: tags,
		Issuer:        s.cfg.Issuer,
		PoolARN:       pool.ARN(),
		IssuedAt:      now,
		ExpiresAt:     now.Add(ttl),
	})
	if err != nil {
		return "", fedid.Internal("mint token", err)
	}
	return tok, nil
}

// cognitoTokenSkew is the grace period on the expiry of presented tokens.
const cognitoTokenSkew = 5 * time.Minute

// verifyCognitoToken checks a token fedid issued, presented as the
// cognito-identity.amazonaws.com login for identity x.
func (s *Service) verifyCognitoToken(x *fedid.Identity, token string) (*fedid.Claims, error) {
	cl, err := s.signer.CheckToken(token)
	if err != nil {
		return nil, fedid.Errorf(fedid.KindNotAuthorized, "Invalid login token. The token's signature could not be verified.")
	}
	now := s.now()
	if cl.Issuer != s.cfg.Issuer {
		return nil, fedid.Errorf(fedid.KindNotAuthorized, "Invalid login token. Issuer doesn't match providerName")
	}
	if !now.Before(cl.ExpiresAt.Add(cognitoTokenSkew)) {
		return nil, fedid.Errorf(fedid.KindNotAuthorized, "Invalid login token. Token expired: %d >= %d",
			now.Unix(), cl.ExpiresAt.Unix())
	}
	if cl.Audience != x.PoolID || cl.Subject != x.ID {
		return nil, fedid.Errorf(fedid.KindNotAuthorized, "Invalid login token. Token is not valid for this identity.")
	}
	return cl, nil
}

// activeIdentity reads an identity and its pool for an unsigned call (the
// account is the pool's); a disabled or inaccessible identity goes no
// further.
func (s *Service) activeIdentity(ctx context.Context, id string) (*fedid.Identity, *fedid.Pool, error) {
	x, err := getIdentity(ctx, s.store, "", id)
	if err != nil {
		return nil, nil, err
	}
	pool, err := s.store.GetPool(ctx, x.PoolID)
	if errors.Is(err, fedid.ErrNotFound) {
		return nil, nil, errIdentityNotFound(x.ID)
	}
	if err != nil {
		return nil, nil, fedid.Internal("get pool", err)
	}
	if st := x.State(); st == fedid.StateDisabled || st == fedid.StateInaccessible {
		return nil, nil, errDisabled(x.ID)
	}
	return x, pool, nil
}

// authenticated is the outcome of presenting an identity and its logins:
// what GetOpenIdToken and GetCredentialsForIdentity share.
type authenticated struct {
	pool  *fedid.Pool
	x     *fedid.Identity
	guest bool
	amr   []string
	tags  map[string]string
	// logins are the public logins that were presented and checked.
	logins []*fedid.VerifiedLogin
}

// authenticate checks an identity with its logins (spec 4.7 and 4.8):
// guests need the pool to allow them; an authenticated identity needs a
// login linked to it or a token fedid issued for it; new logins are
// linked and logins of other identities merged, unless dryRun
// (Fedid.ExplainRole: the same checks, nothing changed).
func (s *Service) authenticate(ctx context.Context, identityID string, logins map[string]string, classic, dryRun bool) (*authenticated, error) {
	x, pool, err := s.activeIdentity(ctx, identityID)
	if err != nil {
		return nil, err
	}
	if classic && pool.AllowClassicFlow != nil && !*pool.AllowClassicFlow {
		return nil, fedid.Errorf(fedid.KindInvalidParameter, "Basic (classic) flow is not enabled, please use enhanced flow.")
	}
	a := &authenticated{pool: pool, x: x}
	if len(logins) == 0 {
		if x.State() != fedid.StateUnauthenticated {
			return nil, errLoginsMismatch
		}
		if !pool.AllowUnauthenticated {
			return nil, errGuestsOff
		}
		a.guest, a.amr = true, []string{"unauthenticated"}
		return a, nil
	}
	public := map[string]string{}
	var proof *fedid.Claims
	for k, v := range logins {
		switch {
		case k == CognitoIdentityProviderName:
			if proof, err = s.verifyCognitoToken(x, v); err != nil {
				return nil, err
			}
		case k == pool.DeveloperProviderName:
			return nil, fedid.Errorf(fedid.KindNotAuthorized,
				"Developer provider logins can only be used with GetOpenIdTokenForDeveloperIdentity.")
		default:
			public[k] = v
		}
	}
	if a.logins, err = s.verifyPublic(ctx, pool, public); err != nil {
		return nil, err
	}
	a.amr = []string{"authenticated"}
	if proof != nil {
		if len(proof.AMR) > 0 && proof.AMR[0] == "unauthenticated" {
			if x.State() != fedid.StateUnauthenticated {
				return nil, errLoginsMismatch
			}
			if !pool.AllowUnauthenticated {
				return nil, errGuestsOff
			}
			a.guest = len(a.logins) == 0
		}
		a.amr, a.tags = proof.AMR, proof.PrincipalTags
	}
	if len(a.logins) == 0 {
		return a, nil
	}
	if x.State() == fedid.StateAuthenticated && proof == nil && !holdsAny(ctx, s.store, x, a.logins) {
		return nil, errLoginsMismatch
	}
	if !dryRun {
		err = s.updateRetry(ctx, "link logins", func(tx fedid.Tx) error {
			cur, err := getIdentity(ctx, tx, pool.ID, x.ID)
			if err != nil {
				return err
			}
			a.x, err = s.linkLogins(ctx, tx, cur, a.logins, false)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	if proof == nil || a.amr[0] != "authenticated" {
		a.amr = []string{"authenticated"}
	}
	for _, l := range a.logins {
		a.amr = append(a.amr, l.Provider, l.Detail)
	}
	mapped, err := mappedTags(pool, a.logins)
	if err != nil {
		return nil, err
	}
	for k, v := range mapped {
		if a.tags == nil {
			a.tags = map[string]string{}
		}
		a.tags[k] = v
	}
	return a, nil
}

// GetOpenIdToken issues a token for a known identity (basic flow, spec
// 4.7). Unsigned: the account is the owner of the identity's pool.
func (s *Service) GetOpenIdToken(ctx context.Context, in *GetOpenIdTokenInput) (*TokenOutput, error) {
	var ch checks
	ch.reqStr("identityId", in.IdentityId, shIdentityID)
	checkLogins(&ch, "logins", in.Logins)
	if err := ch.err(); err != nil {
		return nil, err
	}
	a, err := s.authenticate(ctx, *in.IdentityId, in.Logins, true, false)
	if err != nil {
		return nil, err
	}
	tok, err := s.mint(a.pool, a.x.ID, a.amr, a.tags, s.cfg.OpenIDTokenTTL)
	if err != nil {
		return nil, err
	}
	return &TokenOutput{IdentityId: a.x.ID, Token: tok}, nil
}
