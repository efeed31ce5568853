package identity

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/fedid/fedid"
)

// GetCredentialsForIdentityInput is the GetCredentialsForIdentity request.
type GetCredentialsForIdentityInput struct {
	IdentityId    *string           `json:"IdentityId"`
	Logins        map[string]string `json:"Logins"`
	CustomRoleArn *string           `json:"CustomRoleArn"`
}

// CredentialsOutput is the Credentials shape.
type CredentialsOutput struct {
	AccessKeyId  string    `json:"AccessKeyId"`
	SecretKey    string    `json:"SecretKey"`
	SessionToken string    `json:"SessionToken"`
	Expiration   time.Time `json:"Expiration"`
}

// GetCredentialsForIdentityOutput is the GetCredentialsForIdentity response.
type GetCredentialsForIdentityOutput struct {
	IdentityId  string            `json:"IdentityId"`
	Credentials CredentialsOutput `json:"Credentials"`
}

// credentialTokenTTL is the lifetime of the token fedid mints for its own
// credential issuer (spec 5.2).
const credentialTokenTTL = 600 * time.Second

var errNoRole = fedid.Errorf(fedid.KindInvalidIdentityPoolConfiguration, "Invalid identity pool configuration. Check assigned IAM roles for this pool.")

// GetCredentialsForIdentity returns temporary credentials for an identity
// in the role the pool's configuration chooses (spec 4.8).
func (s *Service) GetCredentialsForIdentity(ctx context.Context, in *GetCredentialsForIdentityInput) (*GetCredentialsForIdentityOutput, error) {
	var ch checks
	ch.reqStr("identityId", in.IdentityId, shIdentityID)
	checkLogins(&ch, "logins", in.Logins)
	ch.str("customRoleArn", in.CustomRoleArn, shARN)
	if err := ch.err(); err != nil {
		return nil, err
	}
	if in.CustomRoleArn != nil && !reRoleARN.MatchString(fedid.Clip(*in.CustomRoleArn)) {
		return nil, fedid.Errorf(fedid.KindInvalidParameter, "'%s' is not an IAM role ARN.", fedid.Clip(*in.CustomRoleArn))
	}
	a, err := s.authenticate(ctx, *in.IdentityId, in.Logins, false)
	if err != nil {
		return nil, err
	}
	role, err := resolveRole(a, in.CustomRoleArn)
	if err != nil {
		return nil, err
	}
	if s.creds == nil {
		return nil, fedid.Errorf(fedid.KindNotImplemented, "No credential issuer is configured.")
	}
	tok, err := s.mint(a.pool, a.x.ID, a.amr, a.tags, credentialTokenTTL)
	if err != nil {
		return nil, err
	}
	c, err := s.creds.Issue(ctx, &fedid.CredentialRequest{Pool: a.pool, IdentityID: a.x.ID, RoleARN: role, Token: tok, Tags: a.tags, Guest: a.guest})
	if err != nil {
		return nil, storeErr("issue credentials", err)
	}
	return &GetCredentialsForIdentityOutput{IdentityId: a.x.ID, Credentials: CredentialsOutput{
		AccessKeyId: c.AccessKeyID, SecretKey: c.SecretKey, SessionToken: c.SessionToken, Expiration: c.Expiration}}, nil
}

var errDenied = fedid.Errorf(fedid.KindNotAuthorized, "Unable to determine a role for this user.")

func errCustomRole(arn string) error {
	return fedid.Errorf(fedid.KindNotAuthorized, "CustomRoleArn '%s' is not allowed for this identity.", fedid.Clip(arn))
}

// resolveRole chooses the role of a request (spec 4.8 step 3, 4.24).
func resolveRole(a *authenticated, custom *string) (string, error) {
	p := a.pool
	def := p.Roles["authenticated"]
	if a.guest {
		def = p.Roles["unauthenticated"]
	}
	if !a.guest {
		mappings := roleMappings(p)
		for _, l := range a.logins {
			m, ok := mappings[l.Provider]
			if !ok && l.ClientID != "" {
				m, ok = mappings[l.Provider+":"+l.ClientID]
			}
			if ok {
				return applyMapping(p, m, l.Claims, custom)
			}
			if len(l.Roles) > 0 { // a SAML assertion's roles (saml.go)
				return samlRole(l.Roles, custom)
			}
		}
	}
	if def == "" {
		return "", errNoRole
	}
	if custom != nil && *custom != def {
		return "", errCustomRole(*custom)
	}
	return def, nil
}

// applyMapping resolves a role with a Token or Rules mapping.
func applyMapping(p *fedid.Pool, m RoleMapping, claims map[string]any, custom *string) (string, error) {
	ambiguous := func() (string, error) {
		if m.AmbiguousRoleResolution != nil && *m.AmbiguousRoleResolution == "Deny" {
			return "", errDenied
		}
		def := p.Roles["authenticated"]
		if def == "" {
			return "", errNoRole
		}
		if custom != nil && *custom != def {
			return "", errCustomRole(*custom)
		}
		return def, nil
	}
	if m.Type != nil && *m.Type == "Token" {
		roles := claimList(claims["cognito:roles"])
		if custom != nil {
			if slices.Contains(roles, *custom) {
				return *custom, nil
			}
			return "", errCustomRole(*custom)
		}
		if pref, ok := claims["cognito:preferred_role"].(string); ok && pref != "" {
			return pref, nil
		}
		if len(roles) == 1 {
			return roles[0], nil
		}
		return ambiguous()
	}
	var first string
	if m.RulesConfiguration != nil {
		for _, r := range m.RulesConfiguration.Rules {
			v, present := claims[*r.Claim]
			if !present || !ruleMatches(*r.MatchType, claimList(v), *r.Value) {
				continue
			}
			if custom != nil && *custom == *r.RoleARN {
				return *custom, nil
			}
			if first == "" {
				first = *r.RoleARN
			}
		}
	}
	if custom != nil && first != "" {
		return "", errCustomRole(*custom)
	}
	if first != "" {
		return first, nil
	}
	return ambiguous()
}

// ruleMatches applies a rule to a claim's values (one for a plain claim,
// several for a list claim: any of them may match). Matching is
// case-sensitive.
func ruleMatches(matchType string, values []string, want string) bool {
	switch matchType {
	case "NotEqual":
		return !slices.Contains(values, want)
	}
	for _, v := range values {
		switch matchType {
		case "Equals":
			if v == want {
				return true
			}
		case "Contains":
			if strings.Contains(v, want) {
				return true
			}
		case "StartsWith":
			if strings.HasPrefix(v, want) {
				return true
			}
		}
	}
	return false
}

// claimList reads a claim as a list of strings: a JSON list, or a plain
// value (cognito:roles in older tokens is a comma-separated string).
func claimList(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, claimString(e))
		}
		return out
	case string:
		if strings.Contains(x, ",") {
			parts := strings.Split(x, ",")
			for i := range parts {
				parts[i] = strings.TrimSpace(parts[i])
			}
			return parts
		}
		return []string{x}
	default:
		return []string{claimString(x)}
	}
}
