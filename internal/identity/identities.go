package identity

import (
	"context"
	"errors"

	"github.com/fedid/fedid"
)

// Identities of a pool: describe, list, delete.

// describe renders an identity as IdentityDescription: provider names
// only, the developer provider once, never user keys (spec 4.14, Q11).
func describe(x *fedid.Identity) IdentityDescription {
	d := IdentityDescription{IdentityId: x.ID}
	d.CreationDate = x.CreatedAt
	d.LastModifiedDate = x.ModifiedAt
	seen := map[string]bool{}
	for _, l := range x.Logins {
		if !seen[l.Provider] {
			seen[l.Provider] = true
			d.Logins = append(d.Logins, l.Provider)
		}
	}
	return d
}

// callerIdentity reads an identity whose pool belongs to the caller.
func callerIdentity(ctx context.Context, r fedid.Reader, c fedid.Caller, id string) (*fedid.Identity, error) {
	if regionOf(id) != c.Region {
		return nil, errIdentityNotFound(id)
	}
	x, err := getIdentity(ctx, r, "", id)
	if err != nil {
		return nil, err
	}
	if _, err := callerPool(ctx, r, c, x.PoolID); err != nil {
		return nil, errIdentityNotFound(id)
	}
	return x, nil
}

// DescribeIdentity returns an identity of the caller.
func (s *Service) DescribeIdentity(ctx context.Context, c fedid.Caller, in *IdentityIDInput) (*IdentityDescription, error) {
	var ch checks
	ch.reqStr("identityId", in.IdentityId, shIdentityID)
	if err := ch.err(); err != nil {
		return nil, err
	}
	x, err := callerIdentity(ctx, s.store, c, *in.IdentityId)
	if err != nil {
		return nil, err
	}
	d := describe(x)
	return &d, nil
}

// ListIdentities lists a pool's identities in creation order.
func (s *Service) ListIdentities(ctx context.Context, c fedid.Caller, in *ListIdentitiesInput) (*ListIdentitiesOutput, error) {
	var ch checks
	ch.reqStr("identityPoolId", in.IdentityPoolId, shPoolID)
	if in.MaxResults == nil {
		ch.null("maxResults")
	}
	ch.intRange("maxResults", in.MaxResults, 1, 60)
	ch.str("nextToken", in.NextToken, shNextToken)
	if err := ch.err(); err != nil {
		return nil, err
	}
	pool, err := callerPool(ctx, s.store, c, *in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	scope := "identities\x00" + pool.ID
	after, err := decodeCursor(scope, in.NextToken)
	if err != nil {
		return nil, err
	}
	hide := in.HideDisabled != nil && *in.HideDisabled
	limit := int(*in.MaxResults)
	xs, err := s.store.ListIdentities(ctx, pool.ID, after, limit+1, hide)
	if err != nil {
		return nil, fedid.Internal("list identities", err)
	}
	out := &ListIdentitiesOutput{IdentityPoolId: pool.ID, Identities: []IdentityDescription{}}
	for i, x := range xs {
		if i == limit {
			last := xs[limit-1]
			out.NextToken = encodeCursor(scope, fedid.Cursor{CreatedAt: last.CreatedAt, ID: last.ID})
			break
		}
		out.Identities = append(out.Identities, describe(x))
	}
	return out, nil
}

// DeleteIdentities deletes up to 60 identities of the caller (spec 4.16).
func (s *Service) DeleteIdentities(ctx context.Context, c fedid.Caller, in *DeleteIdentitiesInput) (*DeleteIdentitiesOutput, error) {
	var ch checks
	if in.IdentityIdsToDelete == nil {
		ch.null("identityIdsToDelete")
	}
	ch.strList("identityIdsToDelete", in.IdentityIdsToDelete, 1, 60, shIdentityID)
	if err := ch.err(); err != nil {
		return nil, err
	}
	out := &DeleteIdentitiesOutput{UnprocessedIdentityIds: []UnprocessedIdentityID{}}
	seen := map[string]bool{}
	for _, id := range in.IdentityIdsToDelete {
		if seen[id] {
			continue
		}
		seen[id] = true
		err := s.store.Update(ctx, func(tx fedid.Tx) error {
			x, err := tx.GetIdentity(ctx, id)
			if errors.Is(err, fedid.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			p, err := tx.GetPool(ctx, x.PoolID)
			if err != nil {
				return err
			}
			if p.Account != c.Account || p.Region != c.Region {
				return errAccessDenied
			}
			return tx.DeleteIdentity(ctx, id)
		})
		switch {
		case errors.Is(err, errAccessDenied):
			out.UnprocessedIdentityIds = append(out.UnprocessedIdentityIds, UnprocessedIdentityID{id, "AccessDenied"})
		case err != nil:
			out.UnprocessedIdentityIds = append(out.UnprocessedIdentityIds, UnprocessedIdentityID{id, "InternalServerError"})
		}
	}
	return out, nil
}

var errAccessDenied = errors.New("identity belongs to another account")

// FindLoginInput is Fedid.FindLogin's request: a login of a pool, as the
// Logins map names its provider, and the provider's user key (a token's
// sub, a developer user ID, a SAML NameID).
type FindLoginInput struct {
	IdentityPoolId *string `json:"IdentityPoolId"`
	Provider       *string `json:"Provider"`
	Key            *string `json:"Key"`
}

// FindLoginOutput is Fedid.FindLogin's answer.
type FindLoginOutput struct {
	IdentityId string `json:"IdentityId"`
}

var (
	shLoginProvider = strShape{min: 1, max: 2048}
	shLoginKey      = strShape{min: 1, max: 2048}
)

// FindLogin returns the identity of a pool of the caller's account that
// holds a login (fedid's own operation, for the console: the API finds
// identities only by developer user ID).
func (s *Service) FindLogin(ctx context.Context, c fedid.Caller, in *FindLoginInput) (*FindLoginOutput, error) {
	var ch checks
	ch.reqStr("identityPoolId", in.IdentityPoolId, shPoolID)
	ch.reqStr("provider", in.Provider, shLoginProvider)
	ch.reqStr("key", in.Key, shLoginKey)
	if err := ch.err(); err != nil {
		return nil, err
	}
	p, err := callerPool(ctx, s.store, c, *in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	id, err := findLogin(ctx, s.store, p.ID, *in.Provider, *in.Key)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, fedid.Errorf(fedid.KindResourceNotFound, "No identity of pool '%s' holds a login of '%s' with that key.", p.ID, fedid.Clip(*in.Provider))
	}
	return &FindLoginOutput{IdentityId: id}, nil
}
