package e2e

import (
	"net/http"

	"strings"
	"testing"
	"time"

	fedidserver "github.com/fedid/fedid/internal/server"
)

// TestValidation sends each schema violation raw (the Go SDK would refuse
// some of them client-side) and checks the real service's wording.
func TestValidation(t *testing.T) {
	s := start(t, startOpts{})
	long := strings.Repeat("a", 129)
	pool := `"IdentityPoolId":"us-east-1:00000000-0000-0000-0000-000000000000"`
	cases := []struct {
		op, body, typ, msg string
	}{
		{"CreateIdentityPool", `{"AllowUnauthenticatedIdentities":true}`, "ValidationException",
			"1 validation error detected: Value null at 'identityPoolName' failed to satisfy constraint: Member must not be null"},
		{"CreateIdentityPool", `{"IdentityPoolName":"x"}`, "ValidationException",
			"1 validation error detected: Value null at 'allowUnauthenticatedIdentities' failed to satisfy constraint: Member must not be null"},
		{"CreateIdentityPool", `{"IdentityPoolName":"bad/name","AllowUnauthenticatedIdentities":true}`, "ValidationException",
			`1 validation error detected: Value 'bad/name' at 'identityPoolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w\s+=,.@-]+`},
		{"CreateIdentityPool", `{"IdentityPoolName":"` + long + `","AllowUnauthenticatedIdentities":true}`, "ValidationException",
			"1 validation error detected: Value '" + long + "' at 'identityPoolName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"CreateIdentityPool", `{"IdentityPoolName":"","AllowUnauthenticatedIdentities":true}`, "ValidationException",
			"1 validation error detected: Value '' at 'identityPoolName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"CreateIdentityPool", `{"IdentityPoolName":"x","AllowUnauthenticatedIdentities":true,"DeveloperProviderName":"bad name"}`, "ValidationException",
			`1 validation error detected: Value 'bad name' at 'developerProviderName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w._-]+`},
		{"CreateIdentityPool", `{"AllowUnauthenticatedIdentities":true,"IdentityPoolName":"ok","OpenIdConnectProviderARNs":["short"]}`, "ValidationException",
			"1 validation error detected: Value '[short]' at 'openIdConnectProviderARNs' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 20]"},
		{"CreateIdentityPool", `{"AllowUnauthenticatedIdentities":true,"IdentityPoolName":"ok","SupportedLoginProviders":{"accounts.google.com":"bad id!"}}`, "ValidationException",
			`1 validation error detected: Value '{accounts.google.com=bad id!}' at 'supportedLoginProviders' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\w.;_/-]+]`},
		{"CreateIdentityPool", `{"AllowUnauthenticatedIdentities":true,"IdentityPoolName":"ok","CognitoIdentityProviders":[{"ProviderName":"cognito-idp.us-east-1.amazonaws.com/us-east-1_X","ClientId":"bad-client"}]}`, "ValidationException",
			`1 validation error detected: Value 'bad-client' at 'cognitoIdentityProviders.1.member.clientId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w_]+`},
		{"CreateIdentityPool", `{}`, "ValidationException",
			"2 validation errors detected: Value null at 'identityPoolName' failed to satisfy constraint: Member must not be null; Value null at 'allowUnauthenticatedIdentities' failed to satisfy constraint: Member must not be null"},
		{"CreateIdentityPool", `{"IdentityPoolName":"x","AllowUnauthenticatedIdentities":true,"SupportedLoginProviders":{"unknown.example.com":"app"}}`, "InvalidParameterException", ""},
		{"CreateIdentityPool", `{"IdentityPoolName":"x","AllowUnauthenticatedIdentities":true,"OpenIdConnectProviderARNs":["arn:aws:iam::000000000000:role/not-oidc"]}`, "InvalidParameterException", ""},
		{"CreateIdentityPool", `{"IdentityPoolName":"x","AllowUnauthenticatedIdentities":true,"IdentityPoolTags":{"aws:reserved":"x"}}`, "InvalidParameterException", ""},
		{"DescribeIdentityPool", `{"IdentityPoolId":"eu-west-1_EXAMPLE"}`, "ValidationException",
			`1 validation error detected: Value 'eu-west-1_EXAMPLE' at 'identityPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w-]+:[0-9a-f-]+`},
		{"DescribeIdentityPool", `{}`, "ValidationException",
			"1 validation error detected: Value null at 'identityPoolId' failed to satisfy constraint: Member must not be null"},
		{"ListIdentityPools", `{}`, "ValidationException",
			"1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null"},
		{"ListIdentityPools", `{"MaxResults":61}`, "ValidationException",
			"1 validation error detected: Value '61' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 60"},
		{"ListIdentityPools", `{"MaxResults":0}`, "ValidationException",
			"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"ListIdentityPools", `{"MaxResults":5,"NextToken":"has space"}`, "ValidationException",
			`1 validation error detected: Value 'has space' at 'nextToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [\S]+`},
		{"TagResource", `{"ResourceArn":"arn:aws:cognito-identity:us-east-1:000000000000:identitypool/x:0"}`, "ValidationException",
			"1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"},
		{"GetOpenIdTokenForDeveloperIdentity", `{` + pool + `,"Logins":{"login.example":"u"},"TokenDuration":86401}`, "ValidationException",
			"1 validation error detected: Value '86401' at 'tokenDuration' failed to satisfy constraint: Member must have value less than or equal to 86400"},
		{"GetOpenIdTokenForDeveloperIdentity", `{` + pool + `,"Logins":{"login.example":""}}`, "ValidationException",
			"1 validation error detected: Value '{login.example=}' at 'logins' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 50000, Member must have length greater than or equal to 1]"},
		{"GetOpenIdTokenForDeveloperIdentity", `{` + pool + `}`, "ValidationException",
			"1 validation error detected: Value null at 'logins' failed to satisfy constraint: Member must not be null"},
		{"DeleteIdentities", `{"IdentityIdsToDelete":[]}`, "ValidationException",
			"1 validation error detected: Value '[]' at 'identityIdsToDelete' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		// Wrong JSON types and bodies.
		{"ListIdentityPools", `{"MaxResults":"5"}`, "SerializationException", ""},
		{"CreateIdentityPool", `{"IdentityPoolName":"x","AllowUnauthenticatedIdentities":"yes"}`, "SerializationException", ""},
		{"ListIdentityPools", `[1,2]`, "SerializationException", ""},
		{"ListIdentityPools", `{"MaxResults":5`, "SerializationException", ""},
	}
	for _, tc := range cases {
		t.Run(tc.op+" "+tc.body, func(t *testing.T) {
			r := s.signed(t, tc.op, tc.body)
			if r.Status != 400 || r.Type != tc.typ {
				t.Fatalf("got %d %s %q, want 400 %s", r.Status, r.Type, r.Message, tc.typ)
			}
			if tc.msg != "" && r.Message != tc.msg {
				t.Fatalf("message\n got %q\nwant %q", r.Message, tc.msg)
			}
			if r.Message == "" {
				t.Fatal("empty message")
			}
			if got := r.Header.Get("x-amzn-ErrorType"); got != tc.typ+":" {
				t.Fatalf("x-amzn-ErrorType %q", got)
			}
		})
	}
	// Unknown members are ignored; an empty body is {}.
	r := s.signed(t, "ListIdentityPools", `{"MaxResults":5,"SomethingNew":{"a":1}}`)
	if r.Status != 200 {
		t.Fatalf("unknown member: %d %s", r.Status, r.Message)
	}
	r = s.signed(t, "ListIdentityPools", ``)
	if r.Type != "ValidationException" {
		t.Fatalf("empty body: %d %s", r.Status, r.Type)
	}
	// Login tokens are never echoed.
	r = s.signed(t, "GetOpenIdTokenForDeveloperIdentity", `{`+pool+`,"Logins":{"`+long+`":"secret-token-value"}}`)
	if r.Type != "ValidationException" || strings.Contains(r.Message, "secret-token-value") {
		t.Fatalf("token echoed or wrong error: %s %q", r.Type, r.Message)
	}
}

func TestProtocol(t *testing.T) {
	s := start(t, startOpts{})

	r := s.signed(t, "NoSuchOperation", `{}`)
	if r.Status != 400 || r.Type != "UnknownOperationException" {
		t.Fatalf("unknown target: %d %s", r.Status, r.Type)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r = do(t, req)
	if r.Status != 400 || r.Type != "UnknownOperationException" {
		t.Fatalf("missing target: %d %s", r.Status, r.Type)
	}
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.GetId")
	r = do(t, req)
	if r.Status != 400 || r.Type != "UnknownOperationException" {
		t.Fatalf("wrong content type: %d %s", r.Status, r.Type)
	}
	// Every response carries a request ID and the CORS headers.
	if r.Header.Get("x-amzn-RequestId") == "" || r.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "x-amzn-ErrorType") {
		t.Fatalf("headers %v", r.Header)
	}
	// Body size limit.
	big := `{"IdentityId":"` + strings.Repeat("a", 2<<20) + `"}`
	r = s.raw(t, "GetOpenIdToken", big, "", "", time.Time{})
	if r.Status != 413 {
		t.Fatalf("big body: %d %s", r.Status, r.Type)
	}
	// All 23 operations are routed to real implementations: an empty
	// request is a validation error, never unknown or unimplemented.
	if len(fedidserver.OperationNames) != 23 {
		t.Fatalf("%d operation names", len(fedidserver.OperationNames))
	}
	for _, op := range fedidserver.OperationNames {
		r := s.signed(t, op, `{}`)
		if r.Status != 400 || r.Type == "UnknownOperationException" || r.Type == "NotImplementedException" {
			t.Errorf("%s {}: %d %s %s", op, r.Status, r.Type, r.Message)
		}
	}
	// Signed operations are authenticated before anything else.
	r = s.raw(t, "SetIdentityPoolRoles", `{}`, "", "", time.Time{})
	if r.Type != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned signed-op: %s", r.Type)
	}

	// CORS preflight.
	req, _ = http.NewRequest(http.MethodOptions, s.URL+"/", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-target,x-amz-user-agent")
	r = do(t, req)
	if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "*" ||
		r.Header.Get("Access-Control-Allow-Headers") != "content-type,x-amz-target,x-amz-user-agent" ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "POST") || r.Header.Get("Access-Control-Max-Age") == "" {
		t.Fatalf("preflight: %d %v", r.Status, r.Header)
	}

	// Health and metrics.
	for _, path := range []string{"/healthz", "/metrics"} {
		res, err := http.Get(s.URL + path)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, err, res)
		}
		res.Body.Close()
	}
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/other", strings.NewReader(`{}`))
	r = do(t, req)
	if r.Status != 404 {
		t.Fatalf("POST /other: %d", r.Status)
	}
}
