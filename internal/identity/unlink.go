package identity

import (
	"context"
	"slices"

	"github.com/fedid/fedid"
)

// UnlinkIdentityInput is the UnlinkIdentity request.
type UnlinkIdentityInput struct {
	IdentityId     *string           `json:"IdentityId"`
	Logins         map[string]string `json:"Logins"`
	LoginsToRemove []string          `json:"LoginsToRemove"`
}

// UnlinkIdentity removes public provider logins from an identity; the
// caller proves ownership with valid tokens of logins linked to it (spec
// 4.13). Unsigned: the account is the owner of the identity's pool.
func (s *Service) UnlinkIdentity(ctx context.Context, in *UnlinkIdentityInput) (*Empty, error) {
	var ch checks
	ch.reqStr("identityId", in.IdentityId, shIdentityID)
	if in.Logins == nil {
		ch.null("logins")
	}
	checkLogins(&ch, "logins", in.Logins)
	if in.LoginsToRemove == nil {
		ch.null("loginsToRemove")
	}
	ch.strList("loginsToRemove", in.LoginsToRemove, 0, 0, shProviderKey)
	if err := ch.err(); err != nil {
		return nil, err
	}
	x, pool, err := s.activeIdentity(ctx, *in.IdentityId)
	if err != nil {
		return nil, err
	}
	for k := range in.Logins {
		if k == CognitoIdentityProviderName {
			return nil, errCognitoToken
		}
		if k == pool.DeveloperProviderName {
			return nil, fedid.Errorf(fedid.KindNotAuthorized,
				"Developer provider logins can only be used with GetOpenIdTokenForDeveloperIdentity.")
		}
	}
	if len(in.Logins) == 0 {
		return nil, errLoginsMismatch
	}
	verified, err := s.verifyPublic(ctx, pool, in.Logins)
	if err != nil {
		return nil, err
	}
	for _, name := range in.LoginsToRemove {
		if name == pool.DeveloperProviderName && name != "" {
			return nil, fedid.Errorf(fedid.KindInvalidParameter,
				"Developer user identifiers are removed with UnlinkDeveloperIdentity.")
		}
	}
	err = s.updateRetry(ctx, "unlink identity", func(tx fedid.Tx) error {
		cur, err := getIdentity(ctx, tx, pool.ID, x.ID)
		if err != nil {
			return err
		}
		// Every presented login must be linked to this identity.
		for _, v := range verified {
			if !slices.ContainsFunc(cur.Logins, func(l fedid.Login) bool { return l.Provider == v.Provider && l.Key == v.Key }) {
				return errLoginsMismatch
			}
		}
		for _, name := range in.LoginsToRemove {
			i := slices.IndexFunc(cur.Logins, func(l fedid.Login) bool { return !l.Developer && l.Provider == name })
			if i < 0 {
				return fedid.Errorf(fedid.KindInvalidParameter, "Login provider '%s' is not linked to identity '%s'.", fedid.ClipTo(name, 128), cur.ID)
			}
			if err := tx.RemoveLogin(ctx, cur.ID, name, cur.Logins[i].Key); err != nil {
				return err
			}
			cur.Logins = slices.Delete(cur.Logins, i, i+1)
		}
		cur.ModifiedAt = s.now()
		return tx.UpdateIdentity(ctx, cur)
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}
