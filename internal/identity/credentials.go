package identity

import (
	"context"
	"errors"
	"fmt"
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

// checkCredentialsInput validates a GetCredentialsForIdentity request (and
// ExplainRole's, which is the same shape).
func checkCredentialsInput(in *GetCredentialsForIdentityInput) error {
	var ch checks
	ch.reqStr("identityId", in.IdentityId, shIdentityID)
	checkLogins(&ch, "logins", in.Logins)
	ch.str("customRoleArn", in.CustomRoleArn, shARN)
	if err := ch.err(); err != nil {
		return err
	}
	if in.CustomRoleArn != nil && !reRoleARN.MatchString(fedid.Clip(*in.CustomRoleArn)) {
		return fedid.Errorf(fedid.KindInvalidParameter, "'%s' is not an IAM role ARN.", fedid.Clip(*in.CustomRoleArn))
	}
	return nil
}

// GetCredentialsForIdentity returns temporary credentials for an identity
// in the role the pool's configuration chooses (spec 4.8).
func (s *Service) GetCredentialsForIdentity(ctx context.Context, in *GetCredentialsForIdentityInput) (*GetCredentialsForIdentityOutput, error) {
	if err := checkCredentialsInput(in); err != nil {
		return nil, err
	}
	a, err := s.authenticate(ctx, *in.IdentityId, in.Logins, false, false)
	if err != nil {
		return nil, err
	}
	role, _, err := resolveRole(a, in.CustomRoleArn)
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

// ExplainRoleOutput is Fedid.ExplainRole's answer: the role
// GetCredentialsForIdentity would choose, and why.
type ExplainRoleOutput struct {
	IdentityId string `json:"IdentityId"`
	// RoleArn is empty when the configuration refuses a role (Error).
	RoleArn string `json:"RoleArn,omitempty"`
	// Kind is Guest, Default, Rule, Ambiguous, Token or SAML.
	Kind string `json:"Kind"`
	// Reason is one sentence.
	Reason string `json:"Reason"`
	// CustomRoleArn is true when the request named a role.
	CustomRoleArn bool       `json:"CustomRoleArn,omitempty"`
	Rule          *RuleMatch `json:"Rule,omitempty"`
	// Error is what GetCredentialsForIdentity would answer instead of
	// credentials when the role is refused.
	Error *ExplainError `json:"Error,omitempty"`
}

// ExplainError is a refusal as the API would return it.
type ExplainError struct {
	Kind    fedid.Kind `json:"-"`
	Code    string     `json:"Code"`
	Message string     `json:"Message"`
}

// ExplainRole says which role GetCredentialsForIdentity would choose for
// an identity of the caller's account and its logins, and why: the logins
// are checked as GetCredentialsForIdentity checks them, but nothing is
// linked or merged and no credentials are issued. Authentication failures
// are errors; a role the configuration refuses is an answer with Error.
// The caller sets Code from Kind (the wire's table).
func (s *Service) ExplainRole(ctx context.Context, c fedid.Caller, in *GetCredentialsForIdentityInput) (*ExplainRoleOutput, error) {
	if err := checkCredentialsInput(in); err != nil {
		return nil, err
	}
	if _, err := callerIdentity(ctx, s.store, c, *in.IdentityId); err != nil {
		return nil, err
	}
	a, err := s.authenticate(ctx, *in.IdentityId, in.Logins, false, true)
	if err != nil {
		return nil, err
	}
	role, why, err := resolveRole(a, in.CustomRoleArn)
	out := &ExplainRoleOutput{IdentityId: a.x.ID, RoleArn: role, Kind: why.Kind, Reason: why.Text, CustomRoleArn: why.Custom, Rule: why.Rule}
	if err != nil {
		var fe *fedid.Error
		if !errors.As(err, &fe) {
			return nil, err
		}
		out.Error = &ExplainError{Kind: fe.Kind, Message: fe.Message}
	}
	return out, nil
}

var errDenied = fedid.Errorf(fedid.KindNotAuthorized, "Unable to determine a role for this user.")

func errCustomRole(arn string) error {
	return fedid.Errorf(fedid.KindNotAuthorized, "CustomRoleArn '%s' is not allowed for this identity.", fedid.Clip(arn))
}

// Why a role was chosen (RoleReason.Kind).
const (
	ReasonGuest     = "Guest"     // the pool's unauthenticated role
	ReasonDefault   = "Default"   // the pool's authenticated role: no mapping for the logins
	ReasonRule      = "Rule"      // a rule of a Rules mapping matched
	ReasonAmbiguous = "Ambiguous" // a mapping decided nothing: AmbiguousRoleResolution
	ReasonToken     = "Token"     // a Token mapping: cognito:preferred_role or cognito:roles
	ReasonSAML      = "SAML"      // the roles of a SAML assertion
)

// RoleReason says why resolveRole chose a role (or refused one): what
// Fedid.ExplainRole shows.
type RoleReason struct {
	Kind string
	// Text is one sentence.
	Text string
	// Custom is set when a CustomRoleArn was asked for.
	Custom bool
	// Rule is the matching rule (Kind Rule).
	Rule *RuleMatch
}

// RuleMatch names a rule of a role mapping.
type RuleMatch struct {
	// Provider is the mapping's key (a provider name, or a user pool's
	// "provider:clientId").
	Provider string `json:"Provider"`
	// Index is the rule's number in the mapping, from 1.
	Index     int    `json:"Index"`
	Claim     string `json:"Claim"`
	MatchType string `json:"MatchType"`
	Value     string `json:"Value"`
}

func reason(kind, format string, args ...any) RoleReason {
	return RoleReason{Kind: kind, Text: fmt.Sprintf(format, args...)}
}

// resolveRole chooses the role of a request (spec 4.8 step 3, 4.24), and
// says why: GetCredentialsForIdentity and Fedid.ExplainRole both call it.
// The reason is set on refusals too when the configuration decided them.
func resolveRole(a *authenticated, custom *string) (string, RoleReason, error) {
	p := a.pool
	var why RoleReason
	if a.guest {
		why = reason(ReasonGuest, "A guest (unauthenticated) identity: the pool's unauthenticated role.")
	} else {
		mappings := roleMappings(p)
		var names []string
		for _, l := range a.logins {
			key := l.Provider
			m, ok := mappings[key]
			if !ok && l.ClientID != "" {
				key = l.Provider + ":" + l.ClientID
				m, ok = mappings[key]
			}
			if ok {
				return applyMapping(p, key, m, l.Claims, custom)
			}
			if len(l.Roles) > 0 { // a SAML assertion's roles (saml.go)
				return samlRole(l.Roles, custom)
			}
			names = append(names, l.Provider)
		}
		if len(names) == 0 {
			why = reason(ReasonDefault, "No provider login with a role mapping (only fedid's own token): the pool's authenticated role.")
		} else {
			why = reason(ReasonDefault, "No role mapping for %s: the pool's authenticated role.", strings.Join(names, ", "))
		}
	}
	def := p.Roles["authenticated"]
	if a.guest {
		def = p.Roles["unauthenticated"]
	}
	return defaultRole(def, why, custom)
}

// defaultRole is the pool's default role def, chosen for reason why, when
// custom (if any) names it.
func defaultRole(def string, why RoleReason, custom *string) (string, RoleReason, error) {
	if def == "" {
		why.Text = strings.TrimSuffix(why.Text, ".") + ", and the pool has none."
		return "", why, errNoRole
	}
	if custom != nil {
		why.Custom = true
		if *custom != def {
			why.Text = strings.TrimSuffix(why.Text, ".") + ", not the CustomRoleArn."
			return "", why, errCustomRole(*custom)
		}
		why.Text = strings.TrimSuffix(why.Text, ".") + ", which the CustomRoleArn names."
	}
	return def, why, nil
}

// applyMapping resolves a role with the Token or Rules mapping m of
// provider key.
func applyMapping(p *fedid.Pool, key string, m RoleMapping, claims map[string]any, custom *string) (string, RoleReason, error) {
	ambiguous := func(what string) (string, RoleReason, error) {
		if m.AmbiguousRoleResolution != nil && *m.AmbiguousRoleResolution == "Deny" {
			return "", reason(ReasonAmbiguous, "%s; AmbiguousRoleResolution is Deny: refused.", what), errDenied
		}
		why := reason(ReasonAmbiguous, "%s; AmbiguousRoleResolution is AuthenticatedRole: the pool's authenticated role.", what)
		return defaultRole(p.Roles["authenticated"], why, custom)
	}
	if m.Type != nil && *m.Type == "Token" {
		roles := claimList(claims["cognito:roles"])
		if custom != nil {
			why := reason(ReasonToken, "The Token mapping for %s: the CustomRoleArn is one of the token's cognito:roles.", key)
			why.Custom = true
			if slices.Contains(roles, *custom) {
				return *custom, why, nil
			}
			why.Text = fmt.Sprintf("The Token mapping for %s: the CustomRoleArn is not one of the token's cognito:roles (%d).", key, len(roles))
			return "", why, errCustomRole(*custom)
		}
		if pref, ok := claims["cognito:preferred_role"].(string); ok && pref != "" {
			return pref, reason(ReasonToken, "The Token mapping for %s: the token's cognito:preferred_role.", key), nil
		}
		if len(roles) == 1 {
			return roles[0], reason(ReasonToken, "The Token mapping for %s: the only role in the token's cognito:roles.", key), nil
		}
		return ambiguous(fmt.Sprintf("The Token mapping for %s: the token has no cognito:preferred_role and %d cognito:roles", key, len(roles)))
	}
	var first string
	var firstRule *RuleMatch
	if m.RulesConfiguration != nil {
		for i, r := range m.RulesConfiguration.Rules {
			v, present := claims[*r.Claim]
			if !present || !ruleMatches(*r.MatchType, claimList(v), *r.Value) {
				continue
			}
			match := &RuleMatch{Provider: key, Index: i + 1, Claim: *r.Claim, MatchType: *r.MatchType, Value: *r.Value}
			if custom != nil && *custom == *r.RoleARN {
				why := ruleReason(match)
				why.Custom = true
				why.Text = strings.TrimSuffix(why.Text, ".") + ", and its role is the CustomRoleArn."
				return *custom, why, nil
			}
			if first == "" {
				first, firstRule = *r.RoleARN, match
			}
		}
	}
	if custom != nil && first != "" {
		why := ruleReason(firstRule)
		why.Custom = true
		why.Text = strings.TrimSuffix(why.Text, ".") + ", but no matching rule's role is the CustomRoleArn."
		return "", why, errCustomRole(*custom)
	}
	if first != "" {
		return first, ruleReason(firstRule), nil
	}
	return ambiguous(fmt.Sprintf("No rule of the role mapping for %s matched", key))
}

func ruleReason(r *RuleMatch) RoleReason {
	why := reason(ReasonRule, "Rule %d of the role mapping for %s matched: claim %s %s %q.", r.Index, r.Provider, r.Claim, r.MatchType, r.Value)
	why.Rule = r
	return why
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
