package identity

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/fedid/fedid"
)

// This file holds what the declared-state file (`fedid serve --init`) needs
// beyond the API: a pool created with an ID chosen in advance, a developer
// user linked to an identity chosen in advance, and the reset of a
// development server. Every value goes through the same checks as the
// API's.

// CreateIdentityPoolWithID creates a pool as CreateIdentityPool does, but
// with the given ID (<caller's region>:<UUID>), so that tests can know it
// in advance.
func (s *Service) CreateIdentityPoolWithID(ctx context.Context, c fedid.Caller, id string, in *CreateIdentityPoolInput) (*IdentityPool, error) {
	if err := checkDeclaredID("IdentityPoolId", id, c.Region); err != nil {
		return nil, err
	}
	return s.createPool(ctx, c, id, in)
}

// checkDeclaredID checks a pool or identity ID given in advance: the
// model's shape, the region's prefix and a UUID after it, as fedid makes
// them.
func checkDeclaredID(member, id, region string) error {
	var ch checks
	ch.reqStr(member, &id, shPoolID)
	if err := ch.err(); err != nil {
		return err
	}
	r, u, _ := strings.Cut(id, ":")
	if r != region {
		return fedid.Errorf(fedid.KindInvalidParameter, "%s '%s' must start with the region %s.", member, fedid.Clip(id), region)
	}
	if _, err := uuid.Parse(u); err != nil || len(u) != 36 {
		return fedid.Errorf(fedid.KindInvalidParameter, "%s '%s' must be <region>:<UUID>.", member, fedid.Clip(id))
	}
	return nil
}

// LinkDeveloperUser makes sure the pool's developer provider links user,
// to identityID when given (created with that ID when it does not exist
// yet), and returns the identity that holds it and whether it linked it
// now. A user already linked to another identity than the one asked for is
// an error; linking again what is linked changes nothing.
func (s *Service) LinkDeveloperUser(ctx context.Context, c fedid.Caller, poolID, user, identityID string) (id string, linked bool, err error) {
	var ch checks
	ch.reqStr("DeveloperUserIdentifier", &user, shDevUserID)
	if err := ch.err(); err != nil {
		return "", false, err
	}
	pool, err := s.readPool(ctx, c, &poolID)
	if err != nil {
		return "", false, err
	}
	if identityID != "" {
		if err := checkDeclaredID("IdentityId", identityID, pool.Region); err != nil {
			return "", false, err
		}
	}
	dev := pool.DeveloperProviderName
	if dev == "" {
		return "", false, fedid.Errorf(fedid.KindInvalidParameter,
			"Developer identities need the pool's DeveloperProviderName.")
	}
	err = s.updateRetry(ctx, "link developer user", func(tx fedid.Tx) error {
		owner, err := findLogin(ctx, tx, pool.ID, dev, user)
		if err != nil {
			return err
		}
		switch {
		case owner != "" && identityID != "" && owner != identityID:
			return fedid.Errorf(fedid.KindDeveloperUserAlreadyRegistered,
				"Developer user identifier '%s' is already registered with identity %s.", fedid.Clip(user), owner)
		case owner != "":
			id, linked = owner, false
			return nil
		}
		now := s.now()
		login := fedid.Login{Provider: dev, Key: user, Developer: true, LinkedAt: now}
		linked = true
		var x *fedid.Identity
		if identityID != "" {
			if x, err = tx.GetIdentity(ctx, identityID); err != nil && !errors.Is(err, fedid.ErrNotFound) {
				return fedid.Internal("get identity", err)
			}
		}
		if x == nil {
			id = identityID
			if id == "" {
				id = fedid.NewIdentityID(pool.Region)
			}
			return tx.CreateIdentity(ctx, &fedid.Identity{ID: id, PoolID: pool.ID, Authenticated: true,
				CreatedAt: now, ModifiedAt: now, Logins: []fedid.Login{login}})
		}
		if x.PoolID != pool.ID {
			return fedid.Errorf(fedid.KindResourceConflict, "Identity %s belongs to another identity pool.", x.ID)
		}
		if st := x.State(); st == fedid.StateDisabled {
			return errDisabled(x.ID)
		}
		if err := canAdd(x, dev, user, 1); err != nil {
			return err
		}
		if err := tx.AddLogin(ctx, pool.ID, x.ID, login); err != nil {
			return err
		}
		x.Authenticated, x.ModifiedAt, id = true, now, x.ID
		return tx.UpdateIdentity(ctx, x)
	})
	if err != nil {
		return "", false, storeErr("link developer user", err)
	}
	return id, linked, nil
}

// Reset deletes every pool with its identities, every OIDC provider and
// every session (access keys and signing keys stay), for a development
// server's reset.
func (s *Service) Reset(ctx context.Context) error {
	if err := s.store.Update(ctx, func(tx fedid.Tx) error { return tx.Reset(ctx) }); err != nil {
		return storeErr("reset", err)
	}
	s.pools.Clear()
	return nil
}

// PrincipalTagMaps returns every principal tag map set on a pool, by
// provider name, for `fedid export`.
func (s *Service) PrincipalTagMaps(ctx context.Context, c fedid.Caller, poolID string) ([]PrincipalTagMapOutput, error) {
	p, err := s.readPool(ctx, c, &poolID)
	if err != nil {
		return nil, err
	}
	maps := tagMaps(p)
	out := make([]PrincipalTagMapOutput, 0, len(maps))
	for _, name := range sortedKeys(maps) {
		tm := maps[name]
		out = append(out, PrincipalTagMapOutput{IdentityPoolId: p.ID, IdentityProviderName: name, UseDefaults: tm.UseDefaults, PrincipalTags: tm.PrincipalTags})
	}
	return out, nil
}
