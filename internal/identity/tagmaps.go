package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/fedid/fedid"
)

// PrincipalTagMapInput is the SetPrincipalTagAttributeMap request.
type PrincipalTagMapInput struct {
	IdentityPoolId       *string           `json:"IdentityPoolId"`
	IdentityProviderName *string           `json:"IdentityProviderName"`
	UseDefaults          *bool             `json:"UseDefaults"`
	PrincipalTags        map[string]string `json:"PrincipalTags"`
}

// PrincipalTagMapOutput is the Set/GetPrincipalTagAttributeMap response.
type PrincipalTagMapOutput struct {
	IdentityPoolId       string            `json:"IdentityPoolId"`
	IdentityProviderName string            `json:"IdentityProviderName"`
	UseDefaults          bool              `json:"UseDefaults"`
	PrincipalTags        map[string]string `json:"PrincipalTags,omitempty"`
}

// tagMap is one provider's stored principal tag map.
type tagMap struct {
	UseDefaults   bool              `json:"useDefaults"`
	PrincipalTags map[string]string `json:"principalTags,omitempty"`
}

const extraTagMaps = "principalTagMaps"

// defaultTagMap is what UseDefaults maps for OIDC-style providers: the
// client ID and the user ID (spec 4.19).
var defaultTagMap = map[string]string{"client": "aud", "username": "sub"}

func tagMaps(p *fedid.Pool) map[string]tagMap {
	var m map[string]tagMap
	if b, ok := p.Extra[extraTagMaps]; ok {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

func checkTagMapInput(ch *checks, in *PrincipalTagMapInput) {
	ch.reqStr("identityPoolId", in.IdentityPoolId, shPoolID)
	ch.reqStr("identityProviderName", in.IdentityProviderName, shProviderKey)
}

// SetPrincipalTagAttributeMap sets which token claims of a provider become
// principal tags (spec 4.19).
func (s *Service) SetPrincipalTagAttributeMap(ctx context.Context, c fedid.Caller, in *PrincipalTagMapInput) (*PrincipalTagMapOutput, error) {
	var ch checks
	checkTagMapInput(&ch, in)
	ch.strMap("principalTags", in.PrincipalTags, 50, shTagKey, shPrincipalTV)
	if err := ch.err(); err != nil {
		return nil, err
	}
	name := *in.IdentityProviderName
	tm := tagMap{PrincipalTags: in.PrincipalTags}
	if in.UseDefaults != nil && *in.UseDefaults {
		tm = tagMap{UseDefaults: true, PrincipalTags: defaultTagMap}
	}
	p, err := s.updatePool(ctx, c, *in.IdentityPoolId, false, func(p *fedid.Pool) error {
		if !trusts(p, name) {
			return fedid.Errorf(fedid.KindInvalidParameter, "Identity provider '%s' is not configured on this identity pool.", fedid.Clip(name))
		}
		maps := tagMaps(p)
		if maps == nil {
			maps = map[string]tagMap{}
		}
		maps[name] = tm
		b, err := json.Marshal(maps)
		if err != nil {
			return err
		}
		if p.Extra == nil {
			p.Extra = map[string][]byte{}
		}
		p.Extra[extraTagMaps] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &PrincipalTagMapOutput{IdentityPoolId: p.ID, IdentityProviderName: name, UseDefaults: tm.UseDefaults, PrincipalTags: tm.PrincipalTags}, nil
}

// GetPrincipalTagAttributeMap returns a provider's principal tag map.
func (s *Service) GetPrincipalTagAttributeMap(ctx context.Context, c fedid.Caller, in *PrincipalTagMapInput) (*PrincipalTagMapOutput, error) {
	var ch checks
	checkTagMapInput(&ch, in)
	if err := ch.err(); err != nil {
		return nil, err
	}
	p, err := callerPool(ctx, s.store, c, *in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	name := *in.IdentityProviderName
	if !trusts(p, name) {
		return nil, fedid.Errorf(fedid.KindResourceNotFound, "Identity provider '%s' is not configured on identity pool '%s'.", fedid.Clip(name), p.ID)
	}
	tm := tagMaps(p)[name]
	return &PrincipalTagMapOutput{IdentityPoolId: p.ID, IdentityProviderName: name, UseDefaults: tm.UseDefaults, PrincipalTags: tm.PrincipalTags}, nil
}

// maxTagBytes is the most the mapped tag values may add up to (the guide's
// 460-byte cap on attributes for access control).
const maxTagBytes = 460

// mappedTags applies the pool's principal tag maps to the verified logins'
// claims (spec 5.4): for each tag -> claim, the claim's value when present.
func mappedTags(p *fedid.Pool, logins []*fedid.VerifiedLogin) (map[string]string, error) {
	maps := tagMaps(p)
	if len(maps) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	size := 0
	for _, l := range logins {
		tm, ok := maps[l.Provider]
		if !ok {
			continue
		}
		keys := make([]string, 0, len(tm.PrincipalTags))
		for k := range tm.PrincipalTags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, tag := range keys {
			v, ok := l.Claims[tm.PrincipalTags[tag]]
			if !ok {
				continue
			}
			s := claimString(v)
			out[tag] = s
			size += len(tag) + len(s)
		}
	}
	if size > maxTagBytes {
		return nil, fedid.Errorf(fedid.KindInvalidParameter, "The mapped principal tags add up to %d bytes; at most %d are allowed.", size, maxTagBytes)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// claimString renders a claim value as a tag value.
func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprint(x)
	case []any:
		if len(x) == 1 {
			return claimString(x[0])
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}
