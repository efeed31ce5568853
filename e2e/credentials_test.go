package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	authRole  = "arn:aws:iam::000000000000:role/Cognito_demoAuth_Role"
	unauthRol = "arn:aws:iam::000000000000:role/Cognito_demoUnauth_Role"
	adminRole = "arn:aws:iam::000000000000:role/admins"
	devsRole  = "arn:aws:iam::000000000000:role/path/developers"
)

func setRoles(t *testing.T, c *ci.Client, pool string, roles map[string]string, mappings map[string]types.RoleMapping) error {
	t.Helper()
	_, err := c.SetIdentityPoolRoles(context.Background(), &ci.SetIdentityPoolRolesInput{IdentityPoolId: &pool, Roles: roles, RoleMappings: mappings})
	return err
}

func rule(claim, match, value, role string) types.MappingRule {
	return types.MappingRule{Claim: aws.String(claim), MatchType: types.MappingRuleMatchType(match), Value: aws.String(value), RoleARN: aws.String(role)}
}

func TestIdentityPoolRoles(t *testing.T) {
	e := newFedEnv(t)
	ctx := context.Background()
	roles := map[string]string{"authenticated": authRole, "unauthenticated": unauthRol}
	upKey := userPoolName + ":upclient"
	mappings := map[string]types.RoleMapping{
		upKey: {Type: types.RoleMappingTypeToken, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeAuthenticatedRole},
		e.oidc.Name(): {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny,
			RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{rule("groups", "Contains", "admin", adminRole)}}},
	}
	if err := setRoles(t, e.c, e.pool, roles, mappings); err != nil {
		t.Fatal(err)
	}
	got, err := e.c.GetIdentityPoolRoles(ctx, &ci.GetIdentityPoolRolesInput{IdentityPoolId: &e.pool})
	if err != nil || got.Roles["authenticated"] != authRole || got.Roles["unauthenticated"] != unauthRol || len(got.RoleMappings) != 2 ||
		got.RoleMappings[e.oidc.Name()].AmbiguousRoleResolution != types.AmbiguousRoleResolutionTypeDeny ||
		aws.ToString(got.RoleMappings[e.oidc.Name()].RulesConfiguration.Rules[0].RoleARN) != adminRole {
		t.Fatalf("get roles: %v %+v", err, got)
	}
	// A set replaces: no mappings given, none left.
	if err := setRoles(t, e.c, e.pool, map[string]string{"authenticated": authRole}, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = e.c.GetIdentityPoolRoles(ctx, &ci.GetIdentityPoolRolesInput{IdentityPoolId: &e.pool})
	if len(got.Roles) != 1 || len(got.RoleMappings) != 0 {
		t.Fatalf("after replace %+v", got)
	}
	many := make([]types.MappingRule, 26)
	for i := range many {
		many[i] = rule("c", "Equals", "v", adminRole)
	}
	for name, tc := range map[string]struct {
		roles    map[string]string
		mappings map[string]types.RoleMapping
		code     string
	}{
		"no ambiguous resolution": {roles, map[string]types.RoleMapping{e.oidc.Name(): {Type: types.RoleMappingTypeToken}}, "InvalidParameterException"},
		"rules without rules":     {roles, map[string]types.RoleMapping{e.oidc.Name(): {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: "Deny"}}, "InvalidParameterException"},
		"26 rules": {roles, map[string]types.RoleMapping{e.oidc.Name(): {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: "Deny",
			RulesConfiguration: &types.RulesConfigurationType{Rules: many}}}, "InvalidParameterException"},
		"not a role ARN":       {map[string]string{"authenticated": "arn:aws:iam::000000000000:user/bob"}, nil, "InvalidParameterException"},
		"unknown provider key": {roles, map[string]types.RoleMapping{"graph.facebook.com": {Type: "Token", AmbiguousRoleResolution: "Deny"}}, "InvalidParameterException"},
		"user pool without client": {roles, map[string]types.RoleMapping{userPoolName + ":other": {Type: "Token", AmbiguousRoleResolution: "Deny"}},
			"InvalidParameterException"},
		"bad roles key":  {map[string]string{"admin": authRole}, nil, "ValidationException"},
		"bad match type": {roles, map[string]types.RoleMapping{e.oidc.Name(): {Type: "Rules", AmbiguousRoleResolution: "Deny", RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{rule("c", "Like", "v", adminRole)}}}}, "ValidationException"},
		"bad type":       {roles, map[string]types.RoleMapping{e.oidc.Name(): {Type: "Magic", AmbiguousRoleResolution: "Deny"}}, "ValidationException"},
	} {
		t.Run(name, func(t *testing.T) {
			apiErr(t, setRoles(t, e.c, e.pool, tc.roles, tc.mappings), tc.code)
		})
	}
	_, err = e.s.client(otherKeyID, otherSecret, "us-east-1").GetIdentityPoolRoles(ctx, &ci.GetIdentityPoolRolesInput{IdentityPoolId: &e.pool})
	apiErr(t, err, "ResourceNotFoundException")
}

func TestPrincipalTagMaps(t *testing.T) {
	e := newFedEnv(t)
	ctx := context.Background()
	got, err := e.c.GetPrincipalTagAttributeMap(ctx, &ci.GetPrincipalTagAttributeMapInput{IdentityPoolId: &e.pool, IdentityProviderName: aws.String(e.oidc.Name())})
	if err != nil || aws.ToBool(got.UseDefaults) || len(got.PrincipalTags) != 0 {
		t.Fatalf("never set: %v %+v", err, got)
	}
	set, err := e.c.SetPrincipalTagAttributeMap(ctx, &ci.SetPrincipalTagAttributeMapInput{IdentityPoolId: &e.pool,
		IdentityProviderName: aws.String(e.oidc.Name()), PrincipalTags: map[string]string{"dept": "department", "who": "email"}})
	if err != nil || set.PrincipalTags["dept"] != "department" {
		t.Fatalf("set: %v %+v", err, set)
	}
	def, err := e.c.SetPrincipalTagAttributeMap(ctx, &ci.SetPrincipalTagAttributeMapInput{IdentityPoolId: &e.pool,
		IdentityProviderName: aws.String("accounts.google.com"), UseDefaults: aws.Bool(true)})
	if err != nil || !aws.ToBool(def.UseDefaults) || def.PrincipalTags["username"] != "sub" || def.PrincipalTags["client"] != "aud" {
		t.Fatalf("defaults: %v %+v", err, def)
	}
	_, err = e.c.SetPrincipalTagAttributeMap(ctx, &ci.SetPrincipalTagAttributeMapInput{IdentityPoolId: &e.pool, IdentityProviderName: aws.String("unknown.example")})
	apiErr(t, err, "InvalidParameterException")
	_, err = e.c.GetPrincipalTagAttributeMap(ctx, &ci.GetPrincipalTagAttributeMapInput{IdentityPoolId: &e.pool, IdentityProviderName: aws.String("unknown.example")})
	apiErr(t, err, "ResourceNotFoundException")

	// The mapped claims become principal tags of minted tokens.
	tok := e.oidcTok(t, "tagged", "department", "research", "email", "t@example.com")
	id, err := e.getID(t, e.pool, map[string]string{e.oidc.Name(): tok})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: &id, Logins: map[string]string{e.oidc.Name(): tok}})
	if err != nil {
		t.Fatal(err)
	}
	_, claims := verifyToken(t, e.s, aws.ToString(out.Token))
	tags, _ := json.Marshal(claims["https://aws.amazon.com/tags"])
	if string(tags) != `{"principal_tags":{"dept":["research"],"who":["t@example.com"]}}` {
		t.Fatalf("tags claim %s", tags)
	}
}

// stsFor is an STS client signing with issued credentials.
func stsFor(s *server, c *types.Credentials) *sts.Client {
	return sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken))})
}

func TestCredentialsLocal(t *testing.T) {
	clock := &fixedClock{t: time.Now()}
	e := newFedEnv(t, func(o *startOpts) { o.clock = clock })
	ctx := context.Background()
	if err := setRoles(t, e.c, e.guests, map[string]string{"authenticated": authRole, "unauthenticated": unauthRol}, map[string]types.RoleMapping{
		e.oidc.Name(): {Type: "Rules", AmbiguousRoleResolution: "AuthenticatedRole", RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{
			rule("groups", "Contains", "admin", adminRole), rule("email", "StartsWith", "dev-", devsRole), rule("tier", "NotEqual", "free", devsRole)}}},
		userPoolName + ":upclient": {Type: "Token", AmbiguousRoleResolution: "Deny"},
	}); err != nil {
		t.Fatal(err)
	}
	creds := func(id string, logins map[string]string, custom string) (*ci.GetCredentialsForIdentityOutput, error) {
		in := &ci.GetCredentialsForIdentityInput{IdentityId: &id, Logins: logins}
		if custom != "" {
			in.CustomRoleArn = &custom
		}
		return e.c.GetCredentialsForIdentity(ctx, in)
	}
	caller := func(c *types.Credentials) string {
		out, err := stsFor(e.s, c).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		return aws.ToString(out.Arn)
	}

	// A guest gets the unauthenticated role.
	g, _ := e.getID(t, e.guests, nil)
	out, err := creds(g, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if left := c.Expiration.Sub(clock.Now()); !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || len(aws.ToString(c.AccessKeyId)) != 20 ||
		len(aws.ToString(c.SecretKey)) != 40 || len(aws.ToString(c.SessionToken)) < 100 || left < 59*time.Minute || left > time.Hour {
		t.Fatalf("credential format %+v (expires in %v)", c, left)
	}
	if got := caller(c); got != "arn:aws:sts::000000000000:assumed-role/Cognito_demoUnauth_Role/CognitoIdentityCredentials" {
		t.Fatalf("guest caller %s", got)
	}
	// Issued credentials are no admin keys for this API.
	_, err = ci.New(ci.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretKey), aws.ToString(c.SessionToken))}).
		ListIdentityPools(ctx, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(5)})
	apiErr(t, err, "AccessDeniedException")
	// A wrong session token is refused.
	bad := *c
	bad.SessionToken = aws.String("forged")
	if _, err := stsFor(e.s, &bad).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") {
		t.Fatalf("forged session token: %v", err)
	}

	// Introspection, for the owning account only.
	intro := func(keyID, secret string) rawResp {
		body := `{"AccessKeyId":"` + aws.ToString(c.AccessKeyId) + `"}`
		req, _ := http.NewRequest(http.MethodPost, e.s.URL+"/fedid/describe-credentials", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		signRaw(t, req, body, keyID, secret)
		return do(t, req)
	}
	r := intro("test", "test")
	var d map[string]any
	_ = json.Unmarshal(r.Body, &d)
	if r.Status != 200 || d["IdentityId"] != g || d["RoleArn"] != unauthRol || d["IdentityPoolId"] != e.guests {
		t.Fatalf("describe-credentials %d %s", r.Status, r.Body)
	}
	if r := intro(otherKeyID, otherSecret); r.Type != "ResourceNotFoundException" {
		t.Fatalf("foreign describe-credentials %d %s", r.Status, r.Body)
	}

	// Developer identity with fedid's token: the authenticated role.
	dt, err := devToken(t, e.c, e.guests, "dev-user")
	if err != nil {
		t.Fatal(err)
	}
	out, err = creds(aws.ToString(dt.IdentityId), map[string]string{"cognito-identity.amazonaws.com": aws.ToString(dt.Token)}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := caller(out.Credentials); got != "arn:aws:sts::000000000000:assumed-role/Cognito_demoAuth_Role/CognitoIdentityCredentials" {
		t.Fatalf("developer caller %s", got)
	}

	// Rules, in order; absent claims are not evaluated; custom roles.
	for _, tc := range []struct {
		name   string
		claims []any
		custom string
		role   string
		code   string
	}{
		{"first matching rule", []any{"groups", []string{"staff", "admins-eu"}, "email", "dev-x@example.com"}, "", adminRole, ""},
		{"second rule", []any{"email", "dev-y@example.com"}, "", devsRole, ""},
		{"NotEqual with the claim present", []any{"tier", "gold"}, "", devsRole, ""},
		{"NotEqual not matching", []any{"tier", "free"}, "", authRole, ""},
		{"no claims: ambiguous, authenticated role", nil, "", authRole, ""},
		{"custom role of a matching rule", []any{"groups", "admin", "email", "dev-z@example.com"}, devsRole, devsRole, ""},
		{"custom role of no matching rule", []any{"email", "dev-z@example.com"}, adminRole, "", "NotAuthorizedException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := strings.ReplaceAll(tc.name, " ", "-")
			tok := e.oidcTok(t, sub, tc.claims...)
			id, err := e.getID(t, e.guests, map[string]string{e.oidc.Name(): tok})
			if err != nil {
				t.Fatal(err)
			}
			out, err := creds(id, map[string]string{e.oidc.Name(): tok}, tc.custom)
			if tc.code != "" {
				apiErr(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := "arn:aws:sts::000000000000:assumed-role/" + tc.role[strings.LastIndex(tc.role, "/")+1:] + "/CognitoIdentityCredentials"
			if got := caller(out.Credentials); got != want {
				t.Fatalf("role %s, want %s", got, want)
			}
		})
	}
	// Token mappings: cognito:preferred_role, cognito:roles, Deny.
	for _, tc := range []struct {
		name   string
		claims map[string]any
		custom string
		role   string
		code   string
	}{
		{"preferred role", map[string]any{"cognito:roles": []string{adminRole, devsRole}, "cognito:preferred_role": devsRole}, "", devsRole, ""},
		{"single role", map[string]any{"cognito:roles": []string{adminRole}}, "", adminRole, ""},
		{"custom role among the roles", map[string]any{"cognito:roles": []string{adminRole, devsRole}}, adminRole, adminRole, ""},
		{"custom role not among them", map[string]any{"cognito:roles": []string{devsRole}}, adminRole, "", "NotAuthorizedException"},
		{"ambiguous: Deny", map[string]any{"cognito:roles": []string{adminRole, devsRole}}, "", "", "NotAuthorizedException"},
	} {
		t.Run("token "+tc.name, func(t *testing.T) {
			cl := map[string]any{"sub": "up-" + strings.ReplaceAll(tc.name, " ", "-"), "aud": "upclient", "token_use": "id"}
			for k, v := range tc.claims {
				cl[k] = v
			}
			tok := e.cognito.token(t, cl)
			id, err := e.getID(t, e.guests, map[string]string{userPoolName: tok})
			if err != nil {
				t.Fatal(err)
			}
			out, err := creds(id, map[string]string{userPoolName: tok}, tc.custom)
			if tc.code != "" {
				apiErr(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := caller(out.Credentials); !strings.Contains(got, "/"+tc.role[strings.LastIndex(tc.role, "/")+1:]+"/") {
				t.Fatalf("role %s, want %s", got, tc.role)
			}
		})
	}
	// Expired credentials are refused.
	clock.Set(clock.Now().Add(time.Hour + time.Minute))
	if _, err := stsFor(e.s, c).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Fatal("expired credentials accepted")
	}
	clock.Set(clock.Now().Add(-time.Hour - time.Minute))

	// No role for the case: the real configuration error; guests off.
	if err := setRoles(t, e.c, e.guests, map[string]string{"authenticated": authRole}, nil); err != nil {
		t.Fatal(err)
	}
	g2, _ := e.getID(t, e.guests, nil)
	_, err = creds(g2, nil, "")
	if msg := apiErr(t, err, "InvalidIdentityPoolConfigurationException"); msg != "Invalid identity pool configuration. Check assigned IAM roles for this pool." {
		t.Fatalf("message %q", msg)
	}
	_, err = creds(g2, nil, authRole)
	apiErr(t, err, "InvalidIdentityPoolConfigurationException")
}

func signRaw(tb testing.TB, req *http.Request, body, keyID, secret string) {
	tb.Helper()
	sign(tb, req, body, keyID, secret, "cognito-identity", time.Now())
}

// stsServer is an STS-compatible test endpoint: AssumeRoleWithWebIdentity
// checks the web identity token against fedid's JWKS (as AWS STS would)
// and answers in the query protocol's XML.
func stsServer(t *testing.T, fedidURL *string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "text/xml")
		fail := func(code, msg string) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>x</RequestId></ErrorResponse>`, code, msg)
		}
		if r.Form.Get("Action") != "AssumeRoleWithWebIdentity" || r.Form.Get("RoleSessionName") != "CognitoIdentityCredentials" {
			fail("InvalidAction", "unexpected request "+r.Form.Encode())
			return
		}
		if strings.HasSuffix(r.Form.Get("RoleArn"), "/refused") {
			fail("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
			return
		}
		if _, claims := verifyToken(t, &server{URL: *fedidURL}, r.Form.Get("WebIdentityToken")); claims["sub"] == nil {
			fail("InvalidIdentityToken", "no sub")
			return
		}
		exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>`+
			`<Credentials><AccessKeyId>ASIASTSTESTKEY000001</AccessKeyId><SecretAccessKey>stssecretstssecretstssecretstssecret0001</SecretAccessKey>`+
			`<SessionToken>sts-session-token</SessionToken><Expiration>%s</Expiration></Credentials>`+
			`<SubjectFromWebIdentityToken>x</SubjectFromWebIdentityToken><AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser>`+
			`</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
			exp, url.QueryEscape(r.Form.Get("RoleArn")))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCredentialsSTS(t *testing.T) {
	var fedidURL string
	stsSrv := stsServer(t, &fedidURL)
	e := newFedEnv(t, func(o *startOpts) { o.credentials, o.stsEndpoint = "sts", stsSrv.URL })
	fedidURL = e.s.URL
	ctx := context.Background()
	if err := setRoles(t, e.c, e.guests, map[string]string{"authenticated": authRole, "unauthenticated": "arn:aws:iam::000000000000:role/refused"}, nil); err != nil {
		t.Fatal(err)
	}
	dt, err := devToken(t, e.c, e.guests, "sts-user")
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.c.GetCredentialsForIdentity(ctx, &ci.GetCredentialsForIdentityInput{IdentityId: dt.IdentityId,
		Logins: map[string]string{"cognito-identity.amazonaws.com": aws.ToString(dt.Token)}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Credentials.AccessKeyId) != "ASIASTSTESTKEY000001" || aws.ToString(out.Credentials.SessionToken) != "sts-session-token" ||
		time.Until(*out.Credentials.Expiration) < 59*time.Minute {
		t.Fatalf("credentials from STS %+v", out.Credentials)
	}
	// The role refuses: the service's configuration error.
	g, _ := e.getID(t, e.guests, nil)
	_, err = e.c.GetCredentialsForIdentity(ctx, &ci.GetCredentialsForIdentityInput{IdentityId: &g})
	apiErr(t, err, "InvalidIdentityPoolConfigurationException")
	// STS down: ExternalServiceException.
	stsSrv.Close()
	_, err = e.c.GetCredentialsForIdentity(ctx, &ci.GetCredentialsForIdentityInput{IdentityId: dt.IdentityId,
		Logins: map[string]string{"cognito-identity.amazonaws.com": aws.ToString(dt.Token)}})
	apiErr(t, err, "ExternalServiceException")
}
