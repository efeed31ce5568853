package identity

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fedid/fedid"
)

// TestResolveRoleReasons checks the reason resolveRole gives for each way
// it chooses (or refuses) a role: what Fedid.ExplainRole shows.
func TestResolveRoleReasons(t *testing.T) {
	const (
		google = "accounts.google.com"
		upool  = "cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"
		saml   = "arn:aws:iam::000000000000:saml-provider/corp"
		def    = "arn:aws:iam::000000000000:role/default"
		guest  = "arn:aws:iam::000000000000:role/guest"
		admin  = "arn:aws:iam::000000000000:role/admin"
		dev    = "arn:aws:iam::000000000000:role/dev"
	)
	str := func(s string) *string { return &s }
	rules := func(amb string, rs ...MappingRule) RoleMapping {
		return RoleMapping{Type: str("Rules"), AmbiguousRoleResolution: str(amb), RulesConfiguration: &RulesConfiguration{Rules: rs}}
	}
	rule := func(claim, match, value, role string) MappingRule {
		return MappingRule{Claim: str(claim), MatchType: str(match), Value: str(value), RoleARN: str(role)}
	}
	pool := func(m map[string]RoleMapping) *fedid.Pool {
		p := &fedid.Pool{Roles: map[string]string{"authenticated": def, "unauthenticated": guest}}
		if m != nil {
			b, _ := json.Marshal(m)
			p.Extra = map[string][]byte{extraRoleMappings: b}
		}
		return p
	}
	login := func(provider string, claims map[string]any) *fedid.VerifiedLogin {
		return &fedid.VerifiedLogin{Provider: provider, Key: "k", Claims: claims}
	}
	googleRules := map[string]RoleMapping{google: rules("AuthenticatedRole",
		rule("hd", "Equals", "example.com", dev), rule("groups", "Contains", "admin", admin))}
	denyRules := map[string]RoleMapping{google: rules("Deny", rule("hd", "Equals", "example.com", dev))}
	token := map[string]RoleMapping{upool + ":client": {Type: str("Token"), AmbiguousRoleResolution: str("Deny")}}
	upLogin := func(claims map[string]any) []*fedid.VerifiedLogin {
		l := login(upool, claims)
		l.ClientID = "client"
		return []*fedid.VerifiedLogin{l}
	}
	for _, tc := range []struct {
		name   string
		a      *authenticated
		custom *string
		role   string
		kind   string
		rule   *RuleMatch
		text   string // a part of the sentence
		err    fedid.Kind
	}{
		{name: "guest", a: &authenticated{pool: pool(googleRules), guest: true},
			role: guest, kind: ReasonGuest, text: "unauthenticated role"},
		{name: "no mapping for the provider", a: &authenticated{pool: pool(googleRules), logins: []*fedid.VerifiedLogin{login("login.example.org", nil)}},
			role: def, kind: ReasonDefault, text: "No role mapping for login.example.org"},
		{name: "only fedid's token", a: &authenticated{pool: pool(googleRules)},
			role: def, kind: ReasonDefault, text: "only fedid's own token"},
		{name: "default named by CustomRoleArn", a: &authenticated{pool: pool(nil), logins: []*fedid.VerifiedLogin{login(google, nil)}}, custom: str(def),
			role: def, kind: ReasonDefault, text: "which the CustomRoleArn names"},
		{name: "no default role", a: &authenticated{pool: &fedid.Pool{}, logins: []*fedid.VerifiedLogin{login(google, nil)}},
			kind: ReasonDefault, text: "the pool has none", err: fedid.KindInvalidIdentityPoolConfiguration},
		{name: "first rule", a: &authenticated{pool: pool(googleRules), logins: []*fedid.VerifiedLogin{login(google, map[string]any{"hd": "example.com", "groups": []any{"admin"}})}},
			role: dev, kind: ReasonRule, rule: &RuleMatch{Provider: google, Index: 1, Claim: "hd", MatchType: "Equals", Value: "example.com"}, text: "Rule 1 of the role mapping for accounts.google.com matched"},
		{name: "second rule", a: &authenticated{pool: pool(googleRules), logins: []*fedid.VerifiedLogin{login(google, map[string]any{"groups": []any{"staff", "admins"}})}},
			role: admin, kind: ReasonRule, rule: &RuleMatch{Provider: google, Index: 2, Claim: "groups", MatchType: "Contains", Value: "admin"}, text: `claim groups Contains "admin"`},
		{name: "a later rule named by CustomRoleArn", a: &authenticated{pool: pool(googleRules), logins: []*fedid.VerifiedLogin{login(google, map[string]any{"hd": "example.com", "groups": "admin"})}}, custom: str(admin),
			role: admin, kind: ReasonRule, rule: &RuleMatch{Provider: google, Index: 2, Claim: "groups", MatchType: "Contains", Value: "admin"}, text: "its role is the CustomRoleArn"},
		{name: "rule matched, CustomRoleArn another", a: &authenticated{pool: pool(googleRules), logins: []*fedid.VerifiedLogin{login(google, map[string]any{"hd": "example.com"})}}, custom: str(admin),
			kind: ReasonRule, rule: &RuleMatch{Provider: google, Index: 1, Claim: "hd", MatchType: "Equals", Value: "example.com"}, text: "no matching rule's role", err: fedid.KindNotAuthorized},
		{name: "no rule: AuthenticatedRole", a: &authenticated{pool: pool(googleRules), logins: []*fedid.VerifiedLogin{login(google, map[string]any{"hd": "other.org"})}},
			role: def, kind: ReasonAmbiguous, text: "AmbiguousRoleResolution is AuthenticatedRole"},
		{name: "no rule: Deny", a: &authenticated{pool: pool(denyRules), logins: []*fedid.VerifiedLogin{login(google, map[string]any{"hd": "other.org"})}},
			kind: ReasonAmbiguous, text: "AmbiguousRoleResolution is Deny: refused", err: fedid.KindNotAuthorized},
		{name: "token: preferred role", a: &authenticated{pool: pool(token), logins: upLogin(map[string]any{"cognito:preferred_role": admin, "cognito:roles": []any{admin, dev}})},
			role: admin, kind: ReasonToken, text: "cognito:preferred_role"},
		{name: "token: the only role", a: &authenticated{pool: pool(token), logins: upLogin(map[string]any{"cognito:roles": []any{dev}})},
			role: dev, kind: ReasonToken, text: "the only role in the token's cognito:roles"},
		{name: "token: CustomRoleArn among the roles", a: &authenticated{pool: pool(token), logins: upLogin(map[string]any{"cognito:roles": []any{admin, dev}})}, custom: str(dev),
			role: dev, kind: ReasonToken, text: "the CustomRoleArn is one of the token's cognito:roles"},
		{name: "token: CustomRoleArn not among the roles", a: &authenticated{pool: pool(token), logins: upLogin(map[string]any{"cognito:roles": []any{admin}})}, custom: str(dev),
			kind: ReasonToken, text: "not one of the token's cognito:roles", err: fedid.KindNotAuthorized},
		{name: "token: two roles, Deny", a: &authenticated{pool: pool(token), logins: upLogin(map[string]any{"cognito:roles": []any{admin, dev}})},
			kind: ReasonAmbiguous, text: "no cognito:preferred_role and 2 cognito:roles; AmbiguousRoleResolution is Deny", err: fedid.KindNotAuthorized},
		{name: "SAML: the only role", a: &authenticated{pool: pool(nil), logins: []*fedid.VerifiedLogin{{Provider: saml, Key: "alice", Roles: []string{admin}}}},
			role: admin, kind: ReasonSAML, text: "only role"},
		{name: "SAML: CustomRoleArn", a: &authenticated{pool: pool(nil), logins: []*fedid.VerifiedLogin{{Provider: saml, Key: "alice", Roles: []string{admin, dev}}}}, custom: str(dev),
			role: dev, kind: ReasonSAML, text: "CustomRoleArn is one of the SAML assertion's roles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			role, why, err := resolveRole(tc.a, tc.custom)
			if fedid.ErrorKind(err) != tc.err && !(tc.err == 0 && err == nil) {
				t.Fatalf("err %v, want kind %v", err, tc.err)
			}
			if tc.err == 0 && err != nil {
				t.Fatalf("err %v", err)
			}
			if role != tc.role || why.Kind != tc.kind || !strings.Contains(why.Text, tc.text) || why.Custom != (tc.custom != nil) {
				t.Fatalf("got %q %+v, want %q %s %q", role, why, tc.role, tc.kind, tc.text)
			}
			if (why.Rule == nil) != (tc.rule == nil) || (why.Rule != nil && *why.Rule != *tc.rule) {
				t.Fatalf("rule %+v, want %+v", why.Rule, tc.rule)
			}
		})
	}
}
