package identity

import (
	"context"
	"errors"

	"github.com/fedid/fedid"
)

// GetIdInput is the GetId request.
type GetIdInput struct {
	AccountId      *string           `json:"AccountId"`
	IdentityPoolId *string           `json:"IdentityPoolId"`
	Logins         map[string]string `json:"Logins"`
}

// GetId returns the identity of a set of logins, creating it when needed;
// without logins it creates a new guest identity (spec 4.6). Unsigned: the
// account is the pool's owner.
func (s *Service) GetId(ctx context.Context, in *GetIdInput) (*IdentityIDOutput, error) {
	var ch checks
	ch.str("accountId", in.AccountId, shAccountID)
	ch.reqStr("identityPoolId", in.IdentityPoolId, shPoolID)
	checkLogins(&ch, "logins", in.Logins)
	if err := ch.err(); err != nil {
		return nil, err
	}
	pool, err := s.store.GetPool(ctx, *in.IdentityPoolId)
	if errors.Is(err, fedid.ErrNotFound) {
		return nil, errPoolNotFound(*in.IdentityPoolId)
	}
	if err != nil {
		return nil, fedid.Internal("get pool", err)
	}
	if in.AccountId != nil && *in.AccountId != pool.Account {
		return nil, fedid.Errorf(fedid.KindNotAuthorized, "The identity pool does not belong to account %s.", fedid.Clip(*in.AccountId))
	}
	now := s.now()
	if len(in.Logins) == 0 {
		if !pool.AllowUnauthenticated {
			return nil, errGuestsOff
		}
		x := &fedid.Identity{ID: fedid.NewIdentityID(pool.Region), PoolID: pool.ID, CreatedAt: now, ModifiedAt: now}
		if err := s.store.CreateIdentity(ctx, x); err != nil {
			return nil, storeErr("create identity", err)
		}
		return &IdentityIDOutput{IdentityId: x.ID}, nil
	}
	for k := range in.Logins {
		switch {
		case k == CognitoIdentityProviderName:
			return nil, errCognitoToken
		case pool.DeveloperProviderName != "" && k == pool.DeveloperProviderName:
			return nil, fedid.Errorf(fedid.KindNotAuthorized,
				"Developer provider logins can only be used with GetOpenIdTokenForDeveloperIdentity.")
		}
	}
	verified, err := s.verifyPublic(ctx, pool, in.Logins)
	if err != nil {
		return nil, err
	}
	var out *fedid.Identity
	err = s.updateRetry(ctx, "get id", func(tx fedid.Tx) error {
		// The oldest identity owning one of the logins survives (spec Q5).
		var x *fedid.Identity
		for _, l := range verified {
			owner, err := findLogin(ctx, tx, pool.ID, l.Provider, l.Key)
			if err != nil || owner == "" {
				if err != nil {
					return err
				}
				continue
			}
			cand, err := getIdentity(ctx, tx, pool.ID, owner)
			if err != nil {
				return err
			}
			if x == nil || cand.CreatedAt.Before(x.CreatedAt) {
				x = cand
			}
		}
		if x == nil {
			x = &fedid.Identity{ID: fedid.NewIdentityID(pool.Region), PoolID: pool.ID,
				Authenticated: true, CreatedAt: now, ModifiedAt: now}
			for _, l := range verified {
				if err := canAdd(x, l.Provider, l.Key, 1); err != nil {
					return limitErr(err)
				}
				x.Logins = append(x.Logins, fedid.Login{Provider: l.Provider, Key: l.Key, LinkedAt: now})
			}
			out = x
			return tx.CreateIdentity(ctx, x)
		}
		var err error
		out, err = s.linkLogins(ctx, tx, x, verified, true)
		return limitErr(err)
	})
	if err != nil {
		return nil, err
	}
	return &IdentityIDOutput{IdentityId: out.ID}, nil
}

// limitErr turns the linked-login limit into GetId's LimitExceededException
// (spec Q4).
func limitErr(err error) error {
	var fe *fedid.Error
	if errors.As(err, &fe) && fe.Kind == fedid.KindResourceConflict && fe.Message == errTooManyLogins.Message {
		return fedid.Errorf(fedid.KindLimitExceeded, "%s", fe.Message)
	}
	return err
}
