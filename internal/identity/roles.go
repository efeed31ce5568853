package identity

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/fedid/fedid"
)

// Limits of role mappings (spec 3.6, Q6).
const (
	MaxRoleMappings = 10
	MaxRules        = 25
)

// MappingRule is one rule of a Rules role mapping.
type MappingRule struct {
	Claim     *string `json:"Claim"`
	MatchType *string `json:"MatchType"`
	Value     *string `json:"Value"`
	RoleARN   *string `json:"RoleARN"`
}

// RulesConfiguration holds a mapping's rules.
type RulesConfiguration struct {
	Rules []MappingRule `json:"Rules"`
}

// RoleMapping maps a provider's users to roles.
type RoleMapping struct {
	Type                    *string             `json:"Type"`
	AmbiguousRoleResolution *string             `json:"AmbiguousRoleResolution,omitempty"`
	RulesConfiguration      *RulesConfiguration `json:"RulesConfiguration,omitempty"`
}

// SetIdentityPoolRolesInput is the SetIdentityPoolRoles request.
type SetIdentityPoolRolesInput struct {
	IdentityPoolId *string                `json:"IdentityPoolId"`
	Roles          map[string]string      `json:"Roles"`
	RoleMappings   map[string]RoleMapping `json:"RoleMappings"`
}

// GetIdentityPoolRolesOutput is the GetIdentityPoolRoles response.
type GetIdentityPoolRolesOutput struct {
	IdentityPoolId string                 `json:"IdentityPoolId"`
	Roles          map[string]string      `json:"Roles"`
	RoleMappings   map[string]RoleMapping `json:"RoleMappings,omitempty"`
}

const extraRoleMappings = "roleMappings"

var reRoleARN = regexp.MustCompile(`^arn:[a-z-]+:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)

func enumCheck(c *checks, path string, v *string, values ...string) {
	if v == nil {
		return
	}
	for _, ok := range values {
		if *v == ok {
			return
		}
	}
	c.add("'"+*v+"'", path, "Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// SetIdentityPoolRoles sets a pool's roles and role mappings (spec 4.17).
func (s *Service) SetIdentityPoolRoles(ctx context.Context, c fedid.Caller, in *SetIdentityPoolRolesInput) (*Empty, error) {
	var ch checks
	ch.reqStr("identityPoolId", in.IdentityPoolId, shPoolID)
	if in.Roles == nil {
		ch.null("roles")
	}
	ch.strMap("roles", in.Roles, 2, shRoleKey, shARN)
	if len(in.RoleMappings) > MaxRoleMappings {
		ch.add("'{...}'", "roleMappings", "Member must have length less than or equal to 10")
	}
	for _, k := range sortedKeys(in.RoleMappings) {
		m := in.RoleMappings[k]
		base := "roleMappings." + k + ".member."
		if len([]rune(k)) < 1 || len([]rune(k)) > 128 {
			ch.add("'"+k+"'", "roleMappings", "Map key must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]")
		}
		if m.Type == nil {
			ch.null(base + "type")
		}
		enumCheck(&ch, base+"type", m.Type, "Token", "Rules")
		enumCheck(&ch, base+"ambiguousRoleResolution", m.AmbiguousRoleResolution, "AuthenticatedRole", "Deny")
		if rc := m.RulesConfiguration; rc != nil {
			if rc.Rules == nil {
				ch.null(base + "rulesConfiguration.rules")
			}
			if len(rc.Rules) > 400 {
				ch.add("'[...]'", base+"rulesConfiguration.rules", "Member must have length less than or equal to 400")
			}
			if rc.Rules != nil && len(rc.Rules) < 1 {
				ch.add("'[]'", base+"rulesConfiguration.rules", "Member must have length greater than or equal to 1")
			}
			for i, r := range rc.Rules {
				rb := base + "rulesConfiguration.rules." + itoa(i+1) + ".member."
				ch.reqStr(rb+"claim", r.Claim, shClaimName)
				if r.MatchType == nil {
					ch.null(rb + "matchType")
				}
				enumCheck(&ch, rb+"matchType", r.MatchType, "Equals", "Contains", "StartsWith", "NotEqual")
				ch.reqStr(rb+"value", r.Value, shRuleValue)
				ch.reqStr(rb+"roleARN", r.RoleARN, shARN)
			}
		}
	}
	if err := ch.err(); err != nil {
		return nil, err
	}
	for _, arn := range in.Roles {
		if !reRoleARN.MatchString(arn) {
			return nil, fedid.Errorf(fedid.KindInvalidParameter, "'%s' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>).", fedid.Clip(arn))
		}
	}
	for _, k := range sortedKeys(in.RoleMappings) {
		m := in.RoleMappings[k]
		if m.AmbiguousRoleResolution == nil {
			return nil, fedid.Errorf(fedid.KindInvalidParameter, "AmbiguousRoleResolution must be specified for the role mapping of '%s'.", fedid.Clip(k))
		}
		if *m.Type == "Rules" && (m.RulesConfiguration == nil || len(m.RulesConfiguration.Rules) == 0) {
			return nil, fedid.Errorf(fedid.KindInvalidParameter, "RulesConfiguration must be specified for the Rules role mapping of '%s'.", fedid.Clip(k))
		}
		if m.RulesConfiguration != nil && len(m.RulesConfiguration.Rules) > MaxRules {
			return nil, fedid.Errorf(fedid.KindInvalidParameter, "A role mapping can hold at most %d rules.", MaxRules)
		}
		if m.RulesConfiguration != nil {
			for _, r := range m.RulesConfiguration.Rules {
				if !reRoleARN.MatchString(*r.RoleARN) {
					return nil, fedid.Errorf(fedid.KindInvalidParameter, "'%s' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>).", fedid.Clip(*r.RoleARN))
				}
			}
		}
	}
	_, err := s.updatePool(ctx, c, *in.IdentityPoolId, true, func(p *fedid.Pool) error {
		for k := range in.RoleMappings {
			if !mappingKeyValid(p, k) {
				return fedid.Errorf(fedid.KindInvalidParameter,
					"Role mapping key '%s' is not a provider of this identity pool (user pools are keyed <provider name>:<client id>).", k)
			}
		}
		p.Roles = in.Roles
		if len(in.RoleMappings) == 0 {
			delete(p.Extra, extraRoleMappings)
			return nil
		}
		b, err := json.Marshal(in.RoleMappings)
		if err != nil {
			return err
		}
		if p.Extra == nil {
			p.Extra = map[string][]byte{}
		}
		p.Extra[extraRoleMappings] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// mappingKeyValid reports whether a role mapping key names a provider the
// pool trusts; user pools are keyed "<provider name>:<client id>".
func mappingKeyValid(p *fedid.Pool, key string) bool {
	for _, c := range p.CognitoIdentityProviders {
		if key == c.ProviderName+":"+c.ClientID {
			return true
		}
	}
	return trusts(p, key)
}

// roleMappings returns a pool's stored role mappings.
func roleMappings(p *fedid.Pool) map[string]RoleMapping {
	b, ok := p.Extra[extraRoleMappings]
	if !ok {
		return nil
	}
	var m map[string]RoleMapping
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// GetIdentityPoolRoles returns a pool's roles and role mappings.
func (s *Service) GetIdentityPoolRoles(ctx context.Context, c fedid.Caller, in *PoolIDInput) (*GetIdentityPoolRolesOutput, error) {
	p, err := s.readPool(ctx, c, in.IdentityPoolId)
	if err != nil {
		return nil, err
	}
	roles := p.Roles
	if roles == nil {
		roles = map[string]string{}
	}
	return &GetIdentityPoolRolesOutput{IdentityPoolId: p.ID, Roles: roles, RoleMappings: roleMappings(p)}, nil
}
