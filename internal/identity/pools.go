package identity

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fedid/fedid"
)

// PublicProviders are the provider names SupportedLoginProviders accepts
// (spec 3.3).
var PublicProviders = map[string]bool{
	"graph.facebook.com":  true,
	"accounts.google.com": true,
	"www.amazon.com":      true,
	"appleid.apple.com":   true,
	"api.twitter.com":     true,
	"www.digits.com":      true,
}

// CognitoIdentityProviderName is the logins key of fedid's own tokens.
const CognitoIdentityProviderName = "cognito-identity.amazonaws.com"

var (
	reOIDCARN        = regexp.MustCompile(`^arn:[a-z-]+:iam::\d{12}:oidc-provider/.+$`)
	reSAMLARN        = regexp.MustCompile(`^arn:[a-z-]+:iam::\d{12}:saml-provider/.+$`)
	reUserPoolIssuer = regexp.MustCompile(`^cognito-idp\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9-]+_[0-9A-Za-z]+$`)
	rePoolARN        = regexp.MustCompile(`^arn:[a-z-]+:cognito-identity:([a-z0-9-]+):(\d{12}):identitypool/(.+)$`)
)

// checkPoolShape validates a CreateIdentityPool-shaped request against the
// model.
func checkPoolShape(c *checks, in *CreateIdentityPoolInput) {
	c.reqStr("identityPoolName", in.IdentityPoolName, shPoolName)
	c.reqBool("allowUnauthenticatedIdentities", in.AllowUnauthenticatedIdentities)
	c.strMap("supportedLoginProviders", in.SupportedLoginProviders, 10, shProviderKey, shClientID)
	c.str("developerProviderName", in.DeveloperProviderName, shDevProvider)
	c.strList("openIdConnectProviderARNs", in.OpenIdConnectProviderARNs, 0, 0, shARN)
	for i, p := range in.CognitoIdentityProviders {
		base := "cognitoIdentityProviders." + itoa(i+1) + ".member."
		c.str(base+"providerName", p.ProviderName, shCogProvider)
		c.str(base+"clientId", p.ClientId, shCogClientID)
	}
	c.strList("samlProviderARNs", in.SamlProviderARNs, 0, 0, shARN)
	c.strMap("identityPoolTags", in.IdentityPoolTags, 0, shTagKey, shTagValue)
}

// checkPoolSemantics applies the service's semantic rules to a pool about
// to be stored.
func checkPoolSemantics(in *CreateIdentityPoolInput) error {
	if err := checkTags(in.IdentityPoolTags, len(in.IdentityPoolTags)); err != nil {
		return err
	}
	for k := range in.SupportedLoginProviders {
		if !PublicProviders[k] {
			return fedid.Errorf(fedid.KindInvalidParameter,
				"SupportedLoginProviders key '%s' is not a supported public provider (%s).", k, strings.Join(sortedKeys(PublicProviders), ", "))
		}
	}
	if in.DeveloperProviderName != nil {
		d := *in.DeveloperProviderName
		if PublicProviders[d] || d == CognitoIdentityProviderName {
			return fedid.Errorf(fedid.KindInvalidParameter,
				"DeveloperProviderName '%s' is reserved for a public provider.", d)
		}
	}
	for _, a := range in.OpenIdConnectProviderARNs {
		if !reOIDCARN.MatchString(a) {
			return fedid.Errorf(fedid.KindInvalidParameter,
				"'%s' is not an OpenID Connect provider ARN (arn:aws:iam::<account>:oidc-provider/<issuer>).", a)
		}
	}
	if dup := firstDuplicate(in.OpenIdConnectProviderARNs); dup != "" {
		return fedid.Errorf(fedid.KindResourceConflict, "OpenIdConnectProviderARNs lists '%s' twice.", fedid.Clip(dup))
	}
	for _, a := range in.SamlProviderARNs {
		if !reSAMLARN.MatchString(a) {
			return fedid.Errorf(fedid.KindInvalidParameter,
				"'%s' is not a SAML provider ARN (arn:aws:iam::<account>:saml-provider/<name>).", a)
		}
	}
	if dup := firstDuplicate(in.SamlProviderARNs); dup != "" {
		return fedid.Errorf(fedid.KindResourceConflict, "SamlProviderARNs lists '%s' twice.", fedid.Clip(dup))
	}
	if len(in.CognitoIdentityProviders) > MaxCognitoProviders {
		return fedid.Errorf(fedid.KindLimitExceeded,
			"Number of Cognito identity providers exceeds the limit of %d.", MaxCognitoProviders)
	}
	seen := map[string]bool{}
	for _, p := range in.CognitoIdentityProviders {
		if p.ProviderName == nil || p.ClientId == nil {
			return fedid.Errorf(fedid.KindInvalidParameter, "CognitoIdentityProviders entries need a ProviderName and a ClientId.")
		}
		if !reUserPoolIssuer.MatchString(*p.ProviderName) {
			return fedid.Errorf(fedid.KindInvalidParameter,
				"'%s' is not a Cognito user pool provider name (cognito-idp.<region>.amazonaws.com/<user pool id>).", *p.ProviderName)
		}
		k := *p.ProviderName + ":" + *p.ClientId
		if seen[k] {
			return fedid.Errorf(fedid.KindResourceConflict,
				"CognitoIdentityProviders lists provider '%s' with client '%s' twice.", *p.ProviderName, *p.ClientId)
		}
		seen[k] = true
	}
	return nil
}

// checkTags applies the tag rules: at most 50 in total, no aws: prefix.
func checkTags(tags map[string]string, total int) error {
	if total > MaxTagsPerPool {
		return fedid.Errorf(fedid.KindInvalidParameter, "Number of tags exceeds the limit of %d.", MaxTagsPerPool)
	}
	for k := range tags {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return fedid.Errorf(fedid.KindInvalidParameter, "Tag keys starting with 'aws:' are reserved.")
		}
	}
	return nil
}

func firstDuplicate(l []string) string {
	seen := make(map[string]bool, len(l))
	for _, v := range l {
		if seen[v] {
			return v
		}
		seen[v] = true
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// applyPoolConfig copies the replaceable configuration of a request onto p
// (full replacement: absent members reset to their defaults).
func applyPoolConfig(p *fedid.Pool, in *CreateIdentityPoolInput) {
	p.Name = *in.IdentityPoolName
	p.AllowUnauthenticated = *in.AllowUnauthenticatedIdentities
	p.AllowClassicFlow = in.AllowClassicFlow
	p.SupportedLoginProviders = in.SupportedLoginProviders
	p.OpenIDConnectProviderARNs = in.OpenIdConnectProviderARNs
	p.SAMLProviderARNs = in.SamlProviderARNs
	p.CognitoIdentityProviders = nil
	for _, c := range in.CognitoIdentityProviders {
		cp := fedid.CognitoProvider{ProviderName: *c.ProviderName, ClientID: *c.ClientId}
		if c.ServerSideTokenCheck != nil {
			cp.ServerSideTokenCheck = *c.ServerSideTokenCheck
		}
		p.CognitoIdentityProviders = append(p.CognitoIdentityProviders, cp)
	}
}

// poolOutput renders a stored pool as the IdentityPool shape.
func poolOutput(p *fedid.Pool) *IdentityPool {
	out := &IdentityPool{
		IdentityPoolId:                 p.ID,
		IdentityPoolName:               p.Name,
		AllowUnauthenticatedIdentities: p.AllowUnauthenticated,
		AllowClassicFlow:               p.AllowClassicFlow,
		SupportedLoginProviders:        p.SupportedLoginProviders,
		DeveloperProviderName:          p.DeveloperProviderName,
		OpenIdConnectProviderARNs:      p.OpenIDConnectProviderARNs,
		SamlProviderARNs:               p.SAMLProviderARNs,
		IdentityPoolTags:               p.Tags,
	}
	for _, c := range p.CognitoIdentityProviders {
		out.CognitoIdentityProviders = append(out.CognitoIdentityProviders,
			CognitoProvider{ProviderName: c.ProviderName, ClientId: c.ClientID, ServerSideTokenCheck: c.ServerSideTokenCheck})
	}
	return out
}

// CreateIdentityPool creates a pool in the caller's account and region.
func (s *Service) CreateIdentityPool(ctx context.Context, c fedid.Caller, in *CreateIdentityPoolInput) (*IdentityPool, error) {
	return s.createPool(ctx, c, "", in)
}

// createPool creates a pool with the given ID, or a new one when id is "".
func (s *Service) createPool(ctx context.Context, c fedid.Caller, id string, in *CreateIdentityPoolInput) (*IdentityPool, error) {
	var ch checks
	checkPoolShape(&ch, in)
	if err := ch.err(); err != nil {
		return nil, err
	}
	if err := checkPoolSemantics(in); err != nil {
		return nil, err
	}
	if id == "" {
		id = c.Region + ":" + uuid.NewString()
	}
	p := &fedid.Pool{
		ID:        id,
		Account:   c.Account,
		Region:    c.Region,
		Tags:      in.IdentityPoolTags,
		CreatedAt: s.now(),
	}
	applyPoolConfig(p, in)
	if in.DeveloperProviderName != nil {
		p.DeveloperProviderName = *in.DeveloperProviderName
	}
	err := s.store.Update(ctx, func(tx fedid.Tx) error {
		n, err := tx.CountPools(ctx, c.Account, c.Region)
		if err != nil {
			return err
		}
		if n >= s.cfg.MaxPools {
			return fedid.Errorf(fedid.KindLimitExceeded,
				"Number of identity pools exceeds the limit of %d.", s.cfg.MaxPools)
		}
		return tx.CreatePool(ctx, p)
	})
	if errors.Is(err, fedid.ErrDuplicate) {
		return nil, fedid.Errorf(fedid.KindResourceConflict, "IdentityPool '%s' already exists.", id)
	}
	if err != nil {
		return nil, storeErr("create pool", err)
	}
	return poolOutput(p), nil
}

// DescribeIdentityPool returns a pool of the caller.
func (s *Service) DescribeIdentityPool(ctx context.Context, c fedid.Caller, in *PoolIDInput) (*IdentityPool, error) {
	p, err := s.readPool(ctx, c, in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	return poolOutput(p), nil
}

// updatePool runs a read-modify-write of one of the caller's pools. A lost
// optimistic race is retried; after a few losses the client gets
// ConcurrentModificationException when conflictOK, else an internal error.
func (s *Service) updatePool(ctx context.Context, c fedid.Caller, id string, conflictOK bool, fn func(p *fedid.Pool) error) (*fedid.Pool, error) {
	var out *fedid.Pool
	for attempt := 0; ; attempt++ {
		err := s.store.Update(ctx, func(tx fedid.Tx) error {
			p, err := callerPool(ctx, tx, c, id)
			if err != nil {
				return err
			}
			if err := fn(p); err != nil {
				return err
			}
			p.Version++
			if err := tx.UpdatePool(ctx, p); err != nil {
				if errors.Is(err, fedid.ErrNotFound) {
					return errPoolNotFound(id)
				}
				return err
			}
			out = p
			return nil
		})
		s.pools.Delete(id)
		if errors.Is(err, fedid.ErrVersion) && attempt < 3 {
			continue
		}
		if errors.Is(err, fedid.ErrVersion) && conflictOK {
			return nil, fedid.Errorf(fedid.KindConcurrentModification,
				"The identity pool was modified concurrently; retry the request.")
		}
		if err != nil {
			return nil, storeErr("update pool", err)
		}
		return out, nil
	}
}

// UpdateIdentityPool replaces a pool's configuration (spec 4.3).
func (s *Service) UpdateIdentityPool(ctx context.Context, c fedid.Caller, in *UpdateIdentityPoolInput) (*IdentityPool, error) {
	var ch checks
	ch.reqStr("identityPoolId", in.IdentityPoolId, shPoolID)
	checkPoolShape(&ch, &in.CreateIdentityPoolInput)
	if err := ch.err(); err != nil {
		return nil, err
	}
	if err := checkPoolSemantics(&in.CreateIdentityPoolInput); err != nil {
		return nil, err
	}
	p, err := s.updatePool(ctx, c, *in.IdentityPoolId, true, func(p *fedid.Pool) error {
		if d := in.DeveloperProviderName; d != nil && p.DeveloperProviderName != "" && *d != p.DeveloperProviderName {
			return fedid.Errorf(fedid.KindInvalidParameter, "Cannot change DeveloperProviderName once it is set.")
		}
		if d := in.DeveloperProviderName; d != nil {
			p.DeveloperProviderName = *d
		}
		applyPoolConfig(p, &in.CreateIdentityPoolInput)
		if in.IdentityPoolTags != nil {
			p.Tags = in.IdentityPoolTags
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return poolOutput(p), nil
}

// DeleteIdentityPool deletes a pool with everything in it.
func (s *Service) DeleteIdentityPool(ctx context.Context, c fedid.Caller, in *PoolIDInput) (*Empty, error) {
	var ch checks
	ch.reqStr("identityPoolId", in.IdentityPoolId, shPoolID)
	if err := ch.err(); err != nil {
		return nil, err
	}
	err := s.store.Update(ctx, func(tx fedid.Tx) error {
		if _, err := callerPool(ctx, tx, c, *in.IdentityPoolId); err != nil {
			return err
		}
		return tx.DeletePool(ctx, *in.IdentityPoolId)
	})
	if errors.Is(err, fedid.ErrNotFound) {
		return nil, errPoolNotFound(*in.IdentityPoolId)
	}
	if err != nil {
		return nil, storeErr("delete pool", err)
	}
	s.pools.Delete(*in.IdentityPoolId)
	return &Empty{}, nil
}

// ListIdentityPools lists the caller's pools in its region, a page at a
// time, in creation order. Keyset pagination keeps pages stable while pools
// are created or deleted.
func (s *Service) ListIdentityPools(ctx context.Context, c fedid.Caller, in *ListIdentityPoolsInput) (*ListIdentityPoolsOutput, error) {
	var ch checks
	if in.MaxResults == nil {
		ch.null("maxResults")
	}
	ch.intRange("maxResults", in.MaxResults, 1, 60)
	ch.str("nextToken", in.NextToken, shNextToken)
	if err := ch.err(); err != nil {
		return nil, err
	}
	scope := "pools\x00" + c.Account + "\x00" + c.Region
	after, err := decodeCursor(scope, in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := int(*in.MaxResults)
	pools, err := s.store.ListPools(ctx, c.Account, c.Region, after, limit+1)
	if err != nil {
		return nil, fedid.Internal("list pools", err)
	}
	out := &ListIdentityPoolsOutput{IdentityPools: []PoolSummary{}}
	for i, p := range pools {
		if i == limit {
			last := pools[limit-1]
			out.NextToken = encodeCursor(scope, fedid.Cursor{CreatedAt: last.CreatedAt, ID: last.ID})
			break
		}
		out.IdentityPools = append(out.IdentityPools, PoolSummary{IdentityPoolId: p.ID, IdentityPoolName: p.Name})
	}
	return out, nil
}

// poolFromARN resolves an identity pool ARN of the caller's account and
// region to its pool ID.
func poolFromARN(c fedid.Caller, arn string) (string, error) {
	m := rePoolARN.FindStringSubmatch(arn)
	if m == nil || regionOf(m[3]) != m[1] || !patIdentityPoolID.re.MatchString(m[3]) {
		return "", fedid.Errorf(fedid.KindInvalidParameter, "'%s' is not an identity pool ARN.", fedid.Clip(arn))
	}
	if m[1] != c.Region || m[2] != c.Account {
		return "", errPoolNotFound(m[3])
	}
	return m[3], nil
}

// TagResource adds or overwrites tags of a pool.
func (s *Service) TagResource(ctx context.Context, c fedid.Caller, in *TagResourceInput) (*Empty, error) {
	var ch checks
	ch.reqStr("resourceArn", in.ResourceArn, shARN)
	if in.Tags == nil {
		ch.null("tags")
	}
	ch.strMap("tags", in.Tags, 0, shTagKey, shTagValue)
	if err := ch.err(); err != nil {
		return nil, err
	}
	id, err := poolFromARN(c, *in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags, len(in.Tags)); err != nil {
		return nil, err
	}
	_, err = s.updatePool(ctx, c, id, false, func(p *fedid.Pool) error {
		merged := maps.Clone(p.Tags)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, in.Tags)
		if err := checkTags(nil, len(merged)); err != nil {
			return err
		}
		p.Tags = merged
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// UntagResource removes tags from a pool; absent keys are ignored.
func (s *Service) UntagResource(ctx context.Context, c fedid.Caller, in *UntagResourceInput) (*Empty, error) {
	var ch checks
	ch.reqStr("resourceArn", in.ResourceArn, shARN)
	if in.TagKeys == nil {
		ch.null("tagKeys")
	}
	ch.strList("tagKeys", in.TagKeys, 0, 0, shTagKey)
	if err := ch.err(); err != nil {
		return nil, err
	}
	id, err := poolFromARN(c, *in.ResourceArn)
	if err != nil {
		return nil, err
	}
	_, err = s.updatePool(ctx, c, id, false, func(p *fedid.Pool) error {
		if len(p.Tags) == 0 {
			return nil
		}
		tags := maps.Clone(p.Tags)
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		p.Tags = tags
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// ListTagsForResource returns a pool's tags.
func (s *Service) ListTagsForResource(ctx context.Context, c fedid.Caller, in *ResourceInput) (*TagsOutput, error) {
	var ch checks
	ch.reqStr("resourceArn", in.ResourceArn, shARN)
	if err := ch.err(); err != nil {
		return nil, err
	}
	id, err := poolFromARN(c, *in.ResourceArn)
	if err != nil {
		return nil, err
	}
	p, err := callerPool(ctx, s.store, c, id)
	if err != nil {
		return nil, err
	}
	tags := p.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return &TagsOutput{Tags: tags}, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
