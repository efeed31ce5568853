package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// target sends body to the full X-Amz-Target target with extra headers,
// signed as creds (unsigned when creds.AccessKeyID is "").
func (s *server) target(tb testing.TB, target, body string, creds aws.Credentials, extra map[string]string) rawResp {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	if creds.AccessKeyID != "" {
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "cognito-identity", "us-east-1", time.Now()); err != nil {
			tb.Fatal(err)
		}
	}
	return do(tb, req)
}

var testCreds = aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}

type signingKeys struct {
	Keys []struct{ KeyId, State string }
}

func listSigningKeys(tb testing.TB, s *server) signingKeys {
	tb.Helper()
	r := s.target(tb, "Fedid.ListSigningKeys", "{}", testCreds, nil)
	if r.Status != 200 {
		tb.Fatalf("Fedid.ListSigningKeys: %d %s %s", r.Status, r.Type, r.Message)
	}
	var out signingKeys
	if err := json.Unmarshal(r.Body, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// The console is served with a strict policy: its own scripts, styles and
// connections only, never framed.
func TestConsoleServed(t *testing.T) {
	s := start(t, startOpts{})
	for _, path := range []string{"/console", "/console/", "/console/console.js", "/console/console.css", "/console/config.json"} {
		res, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || len(b) == 0 {
			t.Fatalf("GET %s: %d, %d bytes", path, res.StatusCode, len(b))
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: Content-Security-Policy %q allows inline or eval", path, csp)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", path, got)
		}
		if len(res.Cookies()) != 0 {
			t.Errorf("GET %s sets cookies", path)
		}
	}
	res, err := http.Post(s.URL+"/console/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /console/: %d, want 405", res.StatusCode)
	}
}

// Cross-site requests: a page on another origin can make the browser send
// anything to fedid, but every state change needs a SigV4 signature made
// with a secret that page does not have (the console keeps it in its own
// origin's session storage; no cookie exists to ride along). Forged
// requests are refused and change nothing.
func TestConsoleForgedCrossOriginRequestsChangeNothing(t *testing.T) {
	s := start(t, startOpts{})
	before := listSigningKeys(t, s)
	evil := map[string]string{"Origin": "https://evil.example", "Referer": "https://evil.example/page"}
	create := `{"IdentityPoolName":"forged","AllowUnauthenticatedIdentities":true}`
	for _, tc := range []struct {
		name, target, body string
		creds              aws.Credentials
		headers            map[string]string
		want               string
	}{
		{"unsigned", "AWSCognitoIdentityService.CreateIdentityPool", create, aws.Credentials{}, evil, "MissingAuthenticationTokenException"},
		{"unsigned admin", "Fedid.RotateSigningKey", "{}", aws.Credentials{}, evil, "MissingAuthenticationTokenException"},
		{"wrong secret", "AWSCognitoIdentityService.CreateIdentityPool", create, aws.Credentials{AccessKeyID: "test", SecretAccessKey: "guess"}, evil, "InvalidSignatureException"},
		{"wrong secret admin", "Fedid.RotateSigningKey", "{}", aws.Credentials{AccessKeyID: "test", SecretAccessKey: "guess"}, evil, "InvalidSignatureException"},
		{"unknown key", "Fedid.RotateSigningKey", "{}", aws.Credentials{AccessKeyID: "AKIAFORGED0000000000", SecretAccessKey: "x"}, evil, "UnrecognizedClientException"},
		// What an HTML form can send without CORS: a "simple" request.
		{"form post", "AWSCognitoIdentityService.CreateIdentityPool", create, aws.Credentials{}, map[string]string{"Origin": "https://evil.example", "Content-Type": "text/plain"}, "UnknownOperationException"},
	} {
		r := s.target(t, tc.target, tc.body, tc.creds, tc.headers)
		if r.Status == 200 || !strings.HasSuffix(r.Type, tc.want) {
			t.Errorf("%s: %d %q %s, want %s", tc.name, r.Status, r.Type, r.Message, tc.want)
		}
	}
	// Form-encoded (also a simple request): the query protocol, signed too.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader("Action=DeleteOpenIDConnectProvider&Version=2010-05-08&OpenIDConnectProviderArn=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if r := do(t, req); r.Status == 200 {
		t.Errorf("unsigned IAM call from another origin: %d", r.Status)
	}

	out, err := s.testClient().ListIdentityPools(context.Background(), &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.IdentityPools) != 0 {
		t.Errorf("pools after forged requests: %+v", out.IdentityPools)
	}
	if after := listSigningKeys(t, s); len(after.Keys) != len(before.Keys) {
		t.Errorf("signing keys after forged requests: %+v, before %+v", after, before)
	}
}

// The admin operations: signed like the API, refused to temporary
// credentials, access keys scoped to the caller's account, never a secret.
func TestAdminOperations(t *testing.T) {
	s := start(t, startOpts{})
	keys := listSigningKeys(t, s)
	if len(keys.Keys) != 1 || keys.Keys[0].State != "current" {
		t.Fatalf("signing keys at start: %+v", keys)
	}
	r := s.target(t, "Fedid.RotateSigningKey", "{}", testCreds, nil)
	if r.Status != 200 {
		t.Fatalf("rotate: %d %s %s", r.Status, r.Type, r.Message)
	}
	var rotated signingKeys
	_ = json.Unmarshal(r.Body, &rotated)
	if len(rotated.Keys) != 2 || rotated.Keys[0].State != "current" || rotated.Keys[1].State != "next" {
		t.Fatalf("signing keys after rotation: %s", r.Body)
	}
	if strings.Contains(strings.ToLower(string(r.Body)), "private") {
		t.Errorf("rotation answer names private material: %s", r.Body)
	}
	// Another account's key may list the keys but not rotate them.
	otherCreds := aws.Credentials{AccessKeyID: otherKeyID, SecretAccessKey: otherSecret}
	if r := s.target(t, "Fedid.RotateSigningKey", "{}", otherCreds, nil); r.Type != "AccessDeniedException" {
		t.Errorf("rotation by another account: %d %s", r.Status, r.Type)
	}
	if r := s.target(t, "Fedid.ListSigningKeys", "{}", otherCreds, nil); r.Status != 200 {
		t.Errorf("listing by another account: %d %s", r.Status, r.Type)
	}
	// The last requests, each account its own.
	var recent struct {
		Requests []struct{ Operation, Account, ErrorCode, RequestId string }
	}
	r = s.target(t, "Fedid.ListRecentRequests", "{}", testCreds, nil)
	if err := json.Unmarshal(r.Body, &recent); err != nil || r.Status != 200 || len(recent.Requests) != 2 ||
		recent.Requests[0].Operation != "Fedid.RotateSigningKey" || recent.Requests[0].Account != "000000000000" || recent.Requests[0].RequestId == "" {
		t.Fatalf("recent requests: %d %s", r.Status, r.Body)
	}
	for _, e := range recent.Requests {
		if e.Account != "000000000000" {
			t.Errorf("another account's request shown: %+v", e)
		}
	}
	r = s.target(t, "Fedid.ListRecentRequests", "{}", otherCreds, nil)
	if err := json.Unmarshal(r.Body, &recent); err != nil || len(recent.Requests) != 2 ||
		recent.Requests[0].Operation != "Fedid.ListSigningKeys" || recent.Requests[1].ErrorCode != "AccessDeniedException" {
		t.Fatalf("the other account's recent requests: %s", r.Body)
	}
	if r := s.target(t, "Fedid.RotateSigningKey", `[]`, testCreds, nil); r.Type != "SerializationException" {
		t.Errorf("not an object: %d %s", r.Status, r.Type)
	}
	if r := s.target(t, "Fedid.NoSuchThing", "{}", testCreds, nil); r.Type != "UnknownOperationException" {
		t.Errorf("unknown admin operation: %d %s", r.Status, r.Type)
	}

	type accessKeys struct {
		AccessKeys []struct {
			AccessKeyId, Account, SecretAccessKey string
			Builtin                               bool
		}
	}
	list := func(c aws.Credentials) accessKeys {
		r := s.target(t, "Fedid.ListAccessKeys", "{}", c, nil)
		if r.Status != 200 {
			t.Fatalf("ListAccessKeys as %s: %d %s", c.AccessKeyID, r.Status, r.Type)
		}
		if strings.Contains(string(r.Body), otherSecret) || strings.Contains(string(r.Body), "Secret") {
			t.Errorf("ListAccessKeys shows a secret: %s", r.Body)
		}
		var out accessKeys
		_ = json.Unmarshal(r.Body, &out)
		return out
	}
	other := list(aws.Credentials{AccessKeyID: otherKeyID, SecretAccessKey: otherSecret})
	if len(other.AccessKeys) != 1 || other.AccessKeys[0].AccessKeyId != otherKeyID || other.AccessKeys[0].Account != otherAccount {
		t.Errorf("other account's keys: %+v", other)
	}
	for _, k := range list(testCreds).AccessKeys {
		if k.Account != "000000000000" || k.AccessKeyId == otherKeyID {
			t.Errorf("test account sees %+v", k)
		}
	}

	// Temporary credentials of an identity: refused.
	ctx := context.Background()
	c := s.testClient()
	pool, err := c.CreateIdentityPool(ctx, &ci.CreateIdentityPoolInput{IdentityPoolName: aws.String("guests"), AllowUnauthenticatedIdentities: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetIdentityPoolRoles(ctx, &ci.SetIdentityPoolRolesInput{IdentityPoolId: pool.IdentityPoolId,
		Roles: map[string]string{"unauthenticated": "arn:aws:iam::000000000000:role/Guest"}}); err != nil {
		t.Fatal(err)
	}
	id, err := c.GetId(ctx, &ci.GetIdInput{IdentityPoolId: pool.IdentityPoolId})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := c.GetCredentialsForIdentity(ctx, &ci.GetCredentialsForIdentityInput{IdentityId: id.IdentityId})
	if err != nil {
		t.Fatal(err)
	}
	session := aws.Credentials{AccessKeyID: *cr.Credentials.AccessKeyId, SecretAccessKey: *cr.Credentials.SecretKey, SessionToken: *cr.Credentials.SessionToken}
	for _, op := range []string{"Fedid.ListSigningKeys", "Fedid.RotateSigningKey", "Fedid.ListAccessKeys", "Fedid.ExplainRole", "Fedid.FindLogin"} {
		if r := s.target(t, op, "{}", session, nil); r.Type != "AccessDeniedException" {
			t.Errorf("%s with an identity's credentials: %d %s", op, r.Status, r.Type)
		}
	}
	if after := listSigningKeys(t, s); len(after.Keys) != 2 {
		t.Errorf("signing keys: %+v", after)
	}
}

type explained struct {
	IdentityId, RoleArn, Kind, Reason string
	CustomRoleArn                     bool
	Rule                              *struct {
		Provider, Claim, MatchType, Value string
		Index                             int
	}
	Error *struct{ Code, Message string }
}

// Fedid.ExplainRole: the role GetCredentialsForIdentity would choose and
// why, the logins checked the same way, nothing linked, no credentials;
// the caller's account's identities only.
func TestAdminExplainRole(t *testing.T) {
	e := newFedEnv(t)
	ctx := context.Background()
	mappings := map[string]types.RoleMapping{e.oidc.Name(): {Type: types.RoleMappingTypeRules, AmbiguousRoleResolution: types.AmbiguousRoleResolutionTypeDeny,
		RulesConfiguration: &types.RulesConfigurationType{Rules: []types.MappingRule{
			rule("email", "StartsWith", "ops@", devsRole), rule("groups", "Contains", "admin", adminRole)}}}}
	roles := map[string]string{"authenticated": authRole, "unauthenticated": unauthRol}
	for _, p := range []string{e.pool, e.guests} {
		if err := setRoles(t, e.c, p, roles, mappings); err != nil {
			t.Fatal(err)
		}
	}
	explain := func(creds aws.Credentials, id string, logins map[string]string, custom string) (explained, rawResp) {
		t.Helper()
		in := map[string]any{"IdentityId": id}
		if logins != nil {
			in["Logins"] = logins
		}
		if custom != "" {
			in["CustomRoleArn"] = custom
		}
		b, _ := json.Marshal(in)
		r := e.s.target(t, "Fedid.ExplainRole", string(b), creds, nil)
		var out explained
		if r.Status == 200 {
			if err := json.Unmarshal(r.Body, &out); err != nil {
				t.Fatal(err)
			}
		}
		return out, r
	}

	// A rule matched: the second one, on a list claim.
	aliceTok := e.oidcTok(t, "alice", "groups", []string{"staff", "admins"})
	alice, err := e.getID(t, e.pool, map[string]string{e.oidc.Name(): aliceTok})
	if err != nil {
		t.Fatal(err)
	}
	got, r := explain(testCreds, alice, map[string]string{e.oidc.Name(): aliceTok}, "")
	if r.Status != 200 || got.RoleArn != adminRole || got.Kind != "Rule" || got.Rule == nil || got.Rule.Index != 2 ||
		got.Rule.Provider != e.oidc.Name() || got.Rule.Claim != "groups" || got.Rule.MatchType != "Contains" || got.Rule.Value != "admin" ||
		!strings.Contains(got.Reason, "Rule 2") || got.Error != nil || got.IdentityId != alice {
		t.Fatalf("rule: %d %s %s", r.Status, r.Type, r.Body)
	}
	// The same as GetCredentialsForIdentity chooses.
	cr, err := e.c.GetCredentialsForIdentity(ctx, &ci.GetCredentialsForIdentityInput{IdentityId: &alice, Logins: map[string]string{e.oidc.Name(): aliceTok}})
	if err != nil {
		t.Fatal(err)
	}
	if who, err := stsFor(e.s, cr.Credentials).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil || !strings.Contains(aws.ToString(who.Arn), "assumed-role/admins/") {
		t.Errorf("GetCredentialsForIdentity chose %v %v", who, err)
	}
	// The response has no credentials.
	if strings.Contains(string(r.Body), "SecretKey") || strings.Contains(string(r.Body), "SessionToken") {
		t.Errorf("credentials in %s", r.Body)
	}

	// No rule matched, Deny: refused, with the reason.
	bobTok := e.oidcTok(t, "bob", "groups", []string{"staff"})
	bob, err := e.getID(t, e.pool, map[string]string{e.oidc.Name(): bobTok})
	if err != nil {
		t.Fatal(err)
	}
	got, r = explain(testCreds, bob, map[string]string{e.oidc.Name(): bobTok}, "")
	if r.Status != 200 || got.RoleArn != "" || got.Kind != "Ambiguous" || got.Error == nil || got.Error.Code != "NotAuthorizedException" ||
		!strings.Contains(got.Reason, "Deny") {
		t.Fatalf("deny: %d %s %s", r.Status, r.Type, r.Body)
	}

	// A provider without a mapping: the pool's authenticated role; a
	// CustomRoleArn naming another role: refused.
	carolTok := e.googTok(t, "carol")
	carol, err := e.getID(t, e.pool, map[string]string{"accounts.google.com": carolTok})
	if err != nil {
		t.Fatal(err)
	}
	got, r = explain(testCreds, carol, map[string]string{"accounts.google.com": carolTok}, "")
	if r.Status != 200 || got.RoleArn != authRole || got.Kind != "Default" || !strings.Contains(got.Reason, "accounts.google.com") {
		t.Fatalf("default: %d %s %s", r.Status, r.Type, r.Body)
	}
	got, r = explain(testCreds, carol, map[string]string{"accounts.google.com": carolTok}, adminRole)
	if r.Status != 200 || got.Error == nil || got.Error.Code != "NotAuthorizedException" || !got.CustomRoleArn {
		t.Fatalf("custom: %d %s %s", r.Status, r.Type, r.Body)
	}

	// A guest, then a guest with a new login: explained, not linked.
	guest, err := e.getID(t, e.guests, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, r = explain(testCreds, guest, nil, ""); got.RoleArn != unauthRol || got.Kind != "Guest" {
		t.Fatalf("guest: %d %s %s", r.Status, r.Type, r.Body)
	}
	daveTok := e.oidcTok(t, "dave", "email", "ops@example.com")
	got, r = explain(testCreds, guest, map[string]string{e.oidc.Name(): daveTok}, "")
	if got.RoleArn != devsRole || got.Rule == nil || got.Rule.Index != 1 {
		t.Fatalf("guest with a login: %d %s %s", r.Status, r.Type, r.Body)
	}
	d, err := e.c.DescribeIdentity(ctx, &ci.DescribeIdentityInput{IdentityId: &guest})
	if err != nil || len(d.Logins) != 0 {
		t.Fatalf("the login was linked: %v %+v", err, d)
	}

	// Logins checked like GetCredentialsForIdentity's.
	if _, r = explain(testCreds, alice, map[string]string{e.oidc.Name(): aliceTok + "x"}, ""); r.Type != "NotAuthorizedException" {
		t.Errorf("a forged token: %d %s", r.Status, r.Type)
	}
	if _, r = explain(testCreds, alice, map[string]string{e.oidc.Name(): bobTok}, ""); r.Status == 200 {
		t.Errorf("another identity's login: %d %s", r.Status, r.Body)
	}
	// Another account: not found; unsigned: refused.
	other := aws.Credentials{AccessKeyID: otherKeyID, SecretAccessKey: otherSecret}
	if _, r = explain(other, alice, map[string]string{e.oidc.Name(): aliceTok}, ""); r.Type != "ResourceNotFoundException" {
		t.Errorf("another account: %d %s", r.Status, r.Type)
	}
	if _, r = explain(aws.Credentials{}, alice, map[string]string{e.oidc.Name(): aliceTok}, ""); r.Type != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %s", r.Status, r.Type)
	}
}

// Fedid.FindLogin: the identity holding a login of a pool, by provider and
// user key; the caller's account's pools only.
func TestAdminFindLogin(t *testing.T) {
	e := newFedEnv(t)
	alice, err := e.getID(t, e.pool, map[string]string{"accounts.google.com": e.googTok(t, "alice")})
	if err != nil {
		t.Fatal(err)
	}
	oidc, err := e.getID(t, e.pool, map[string]string{e.oidc.Name(): e.oidcTok(t, "alice")})
	if err != nil {
		t.Fatal(err)
	}
	find := func(creds aws.Credentials, pool, provider, key string) (string, rawResp) {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"IdentityPoolId": pool, "Provider": provider, "Key": key})
		r := e.s.target(t, "Fedid.FindLogin", string(b), creds, nil)
		var out struct{ IdentityId string }
		_ = json.Unmarshal(r.Body, &out)
		return out.IdentityId, r
	}
	if got, r := find(testCreds, e.pool, "accounts.google.com", "alice"); r.Status != 200 || got != alice {
		t.Fatalf("google alice: %d %s %s, want %s", r.Status, r.Type, r.Body, alice)
	}
	if got, r := find(testCreds, e.pool, e.oidc.Name(), "alice"); r.Status != 200 || got != oidc {
		t.Fatalf("oidc alice: %d %s %s, want %s", r.Status, r.Type, r.Body, oidc)
	}
	for name, tc := range map[string]struct {
		creds               aws.Credentials
		pool, provider, key string
		want                string
	}{
		"no such key":     {testCreds, e.pool, "accounts.google.com", "bob", "ResourceNotFoundException"},
		"another pool":    {testCreds, e.guests, "accounts.google.com", "alice", "ResourceNotFoundException"},
		"another account": {aws.Credentials{AccessKeyID: otherKeyID, SecretAccessKey: otherSecret}, e.pool, "accounts.google.com", "alice", "ResourceNotFoundException"},
		"unsigned":        {aws.Credentials{}, e.pool, "accounts.google.com", "alice", "MissingAuthenticationTokenException"},
		"no provider":     {testCreds, e.pool, "", "alice", "ValidationException"},
		"not a pool ID":   {testCreds, "pool", "accounts.google.com", "alice", "ValidationException"},
	} {
		if _, r := find(tc.creds, tc.pool, tc.provider, tc.key); r.Type != tc.want {
			t.Errorf("%s: %d %s %s, want %s", name, r.Status, r.Type, r.Message, tc.want)
		}
	}
}
