package identity

import (
	"context"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/fedid/fedid"
)

// maxAttempts bounds the retries of an operation that lost a uniqueness
// race (two first calls for one new developer user): the loser re-reads and
// finds what the winner stored.
const maxAttempts = 5

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
		// Hot path: a known developer user needs one indexed read.
		owner, err := findLogin(ctx, s.store, pool.ID, pool.DeveloperProviderName, req.user)
		if err != nil {
			return nil, err
		}
		if owner != "" {
			x = &fedid.Identity{ID: owner, PoolID: pool.ID}
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

// resolveDeveloper runs the write path of GetOpenIdTokenForDeveloperIdentity
// in a transaction, retrying when a concurrent call won a uniqueness race.
func (s *Service) resolveDeveloper(ctx context.Context, req *devRequest, identityID *string) (*fedid.Identity, error) {
	var out *fedid.Identity
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		err = s.store.Update(ctx, func(tx fedid.Tx) error {
			x, err := s.resolveDeveloperTx(ctx, tx, req, identityID)
			out = x
			return err
		})
		if !errors.Is(err, fedid.ErrDuplicate) {
			break
		}
	}
	if err != nil {
		return nil, storeErr("developer identity", err)
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
			ID: pool.Region + ":" + uuid.NewString(), PoolID: pool.ID,
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
// linked and logins of other identities merged.
func (s *Service) authenticate(ctx context.Context, identityID string, logins map[string]string, classic bool) (*authenticated, error) {
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
	err = s.updateRetry(ctx, func(tx fedid.Tx) error {
		cur, err := getIdentity(ctx, tx, pool.ID, x.ID)
		if err != nil {
			return err
		}
		a.x, err = s.linkLogins(ctx, tx, cur, a.logins, false)
		return err
	})
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
	a, err := s.authenticate(ctx, *in.IdentityId, in.Logins, true)
	if err != nil {
		return nil, err
	}
	tok, err := s.mint(a.pool, a.x.ID, a.amr, a.tags, s.cfg.OpenIDTokenTTL)
	if err != nil {
		return nil, err
	}
	return &TokenOutput{IdentityId: a.x.ID, Token: tok}, nil
}

// updateRetry runs fn in a write transaction, again when it lost a
// uniqueness race.
func (s *Service) updateRetry(ctx context.Context, fn func(tx fedid.Tx) error) error {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		err = s.store.Update(ctx, fn)
		if !errors.Is(err, fedid.ErrDuplicate) {
			break
		}
	}
	if err != nil {
		return storeErr("update identity", err)
	}
	return nil
}

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
			return nil, fedid.Errorf(fedid.KindResourceNotFound, "Developer user identifier '%s' not found.", truncate(*u, 128))
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

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "..."
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
	err := s.updateRetry(ctx, func(tx fedid.Tx) error {
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
				return nil, fedid.Errorf(fedid.KindResourceNotFound, "Developer user identifier '%s' not found.", truncate(u, 128))
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
	err := s.updateRetry(ctx, func(tx fedid.Tx) error {
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
			return fedid.Errorf(fedid.KindResourceNotFound, "Developer user identifier '%s' not found.", truncate(u, 128))
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
