package identity

import (
	"context"
	"strconv"

	"github.com/fedid/fedid"
)

// Developer user identifiers of an identity: lookup, merge, unlink.

// developerIDs lists the developer user identifiers of x in link order.
func developerIDs(x *fedid.Identity) []string {
	out := []string{}
	for _, l := range x.Logins {
		if l.Developer {
			out = append(out, l.Key)
		}
	}
	return out
}

// LookupDeveloperIdentity maps a developer user identifier to its identity
// or an identity to its developer user identifiers (spec 4.10).
func (s *Service) LookupDeveloperIdentity(ctx context.Context, c fedid.Caller, in *LookupDeveloperIdentityInput) (*LookupDeveloperIdentityOutput, error) {
	var ch checks
	ch.reqStr("identityPoolId", in.IdentityPoolId, shPoolID)
	ch.str("identityId", in.IdentityId, shIdentityID)
	ch.str("developerUserIdentifier", in.DeveloperUserIdentifier, shDevUserID)
	ch.intRange("maxResults", in.MaxResults, 1, 60)
	ch.str("nextToken", in.NextToken, shNextToken)
	if err := ch.err(); err != nil {
		return nil, err
	}
	pool, err := callerPool(ctx, s.store, c, *in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	if in.IdentityId == nil && in.DeveloperUserIdentifier == nil {
		return nil, fedid.Errorf(fedid.KindInvalidParameter, "One of IdentityId or DeveloperUserIdentifier must be specified.")
	}
	var x *fedid.Identity
	if in.IdentityId != nil {
		if x, err = getIdentity(ctx, s.store, pool.ID, *in.IdentityId); err != nil {
			return nil, err
		}
	}
	if u := in.DeveloperUserIdentifier; u != nil {
		owner := ""
		if pool.DeveloperProviderName != "" {
			if owner, err = findLogin(ctx, s.store, pool.ID, pool.DeveloperProviderName, *u); err != nil {
				return nil, err
			}
		}
		switch {
		case x != nil && owner != x.ID:
			return nil, fedid.Errorf(fedid.KindResourceConflict, "Developer user identifier does not match the identity.")
		case owner == "":
			return nil, fedid.Errorf(fedid.KindResourceNotFound, "Developer user identifier '%s' not found.", fedid.ClipTo(*u, 128))
		case x == nil:
			if x, err = getIdentity(ctx, s.store, pool.ID, owner); err != nil {
				return nil, err
			}
		}
	}
	ids := developerIDs(x)
	start := 0
	if in.NextToken != nil {
		cur, err := decodeCursor("lookup\x00"+x.ID, in.NextToken)
		if err != nil {
			return nil, err
		}
		if start, err = strconv.Atoi(cur.ID); err != nil || start < 0 || start > len(ids) {
			return nil, errBadToken()
		}
	}
	end := min(start+maxResults(in.MaxResults), len(ids))
	out := &LookupDeveloperIdentityOutput{IdentityId: x.ID, DeveloperUserIdentifierList: ids[start:end]}
	if end < len(ids) {
		out.NextToken = encodeCursor("lookup\x00"+x.ID, fedid.Cursor{ID: strconv.Itoa(end)})
	}
	return out, nil
}

// devPool reads the caller's pool and checks the developer provider name a
// request names.
func devPool(ctx context.Context, r fedid.Reader, c fedid.Caller, poolID, dev string) (*fedid.Pool, error) {
	pool, err := callerPool(ctx, r, c, poolID)
	if err != nil {
		return nil, err
	}
	if pool.DeveloperProviderName == "" || pool.DeveloperProviderName != dev {
		return nil, fedid.Errorf(fedid.KindInvalidParameter,
			"Developer provider name '%s' does not match the identity pool's developer provider.", dev)
	}
	return pool, nil
}

// MergeDeveloperIdentities merges the source user's identity into the
// destination user's identity (spec 4.11).
func (s *Service) MergeDeveloperIdentities(ctx context.Context, c fedid.Caller, in *MergeDeveloperIdentitiesInput) (*IdentityIDOutput, error) {
	var ch checks
	ch.reqStr("sourceUserIdentifier", in.SourceUserIdentifier, shDevUserID)
	ch.reqStr("destinationUserIdentifier", in.DestinationUserIdentifier, shDevUserID)
	ch.reqStr("developerProviderName", in.DeveloperProviderName, shDevProvider)
	ch.reqStr("identityPoolId", in.IdentityPoolId, shPoolID)
	if err := ch.err(); err != nil {
		return nil, err
	}
	var out string
	err := s.updateRetry(ctx, "merge identities", func(tx fedid.Tx) error {
		pool, err := devPool(ctx, tx, c, *in.IdentityPoolId, *in.DeveloperProviderName)
		if err != nil {
			return err
		}
		owner := func(u string) (*fedid.Identity, error) {
			id, err := findLogin(ctx, tx, pool.ID, pool.DeveloperProviderName, u)
			if err != nil {
				return nil, err
			}
			if id == "" {
				return nil, fedid.Errorf(fedid.KindResourceNotFound, "Developer user identifier '%s' not found.", fedid.ClipTo(u, 128))
			}
			return getIdentity(ctx, tx, pool.ID, id)
		}
		src, err := owner(*in.SourceUserIdentifier)
		if err != nil {
			return err
		}
		dst, err := owner(*in.DestinationUserIdentifier)
		if err != nil {
			return err
		}
		out = dst.ID
		if src.ID == dst.ID {
			return nil
		}
		return s.merge(ctx, tx, dst, src)
	})
	if err != nil {
		return nil, err
	}
	return &IdentityIDOutput{IdentityId: out}, nil
}

// UnlinkDeveloperIdentity removes a developer user identifier from an
// identity (spec 4.12).
func (s *Service) UnlinkDeveloperIdentity(ctx context.Context, c fedid.Caller, in *UnlinkDeveloperIdentityInput) (*Empty, error) {
	var ch checks
	ch.reqStr("identityId", in.IdentityId, shIdentityID)
	ch.reqStr("identityPoolId", in.IdentityPoolId, shPoolID)
	ch.reqStr("developerProviderName", in.DeveloperProviderName, shDevProvider)
	ch.reqStr("developerUserIdentifier", in.DeveloperUserIdentifier, shDevUserID)
	if err := ch.err(); err != nil {
		return nil, err
	}
	err := s.updateRetry(ctx, "unlink developer identity", func(tx fedid.Tx) error {
		pool, err := callerPool(ctx, tx, c, *in.IdentityPoolId)
		if err != nil {
			return err
		}
		x, err := getIdentity(ctx, tx, pool.ID, *in.IdentityId)
		if err != nil {
			return err
		}
		if _, err := devPool(ctx, tx, c, pool.ID, *in.DeveloperProviderName); err != nil {
			return err
		}
		u := *in.DeveloperUserIdentifier
		owner, err := findLogin(ctx, tx, pool.ID, pool.DeveloperProviderName, u)
		if err != nil {
			return err
		}
		switch {
		case owner == "":
			return fedid.Errorf(fedid.KindResourceNotFound, "Developer user identifier '%s' not found.", fedid.ClipTo(u, 128))
		case owner != x.ID:
			return fedid.Errorf(fedid.KindResourceConflict, "Developer user identifier does not match the identity.")
		}
		if err := tx.RemoveLogin(ctx, x.ID, pool.DeveloperProviderName, u); err != nil {
			return err
		}
		x.ModifiedAt = s.now()
		return tx.UpdateIdentity(ctx, x)
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}
