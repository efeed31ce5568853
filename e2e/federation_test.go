package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"

	"github.com/fedid/fedid/internal/federation"
)

const userPoolName = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E"

// fedEnv is a server that trusts three providers: a registered OIDC
// provider, a Cognito user pool and Google, each an in-process issuer.
type fedEnv struct {
	s                   *server
	c                   *ci.Client
	oidc, cognito, goog *idp
	arn, pool, guests   string
}

func newFedEnv(t *testing.T, mods ...func(*startOpts)) *fedEnv {
	t.Helper()
	e := &fedEnv{oidc: newIDP(t, "/tenant"), cognito: newIDP(t, "/us-east-1_Ab12Cd34E"), goog: newIDP(t, "")}
	o := startOpts{federation: federation.Config{
		CognitoIdPEndpoint: e.cognito.srv.URL,
		SocialIssuers:      map[string]string{"accounts.google.com": e.goog.Issuer()},
		Timeout:            500 * time.Millisecond,
		MinRefresh:         10 * time.Millisecond,
	}}
	for _, m := range mods {
		m(&o)
	}
	e.s = start(t, o)
	e.c = e.s.testClient()
	e.arn = registerProvider(t, e.s, "000000000000", e.oidc.Issuer(), "app-client")
	mk := func(name string, guests bool) string {
		return aws.ToString(createPool(t, e.c, name, func(in *ci.CreateIdentityPoolInput) {
			in.AllowUnauthenticatedIdentities = guests
			in.OpenIdConnectProviderARNs = []string{e.arn}
			in.CognitoIdentityProviders = []types.CognitoIdentityProvider{{ProviderName: aws.String(userPoolName), ClientId: aws.String("upclient")}}
			in.SupportedLoginProviders = map[string]string{"accounts.google.com": "gclient"}
		}).IdentityPoolId)
	}
	e.pool, e.guests = mk("federated", false), mk("with guests", true)
	return e
}

func (e *fedEnv) oidcTok(t *testing.T, sub string, extra ...any) string {
	c := map[string]any{"sub": sub, "aud": "app-client"}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i].(string)] = extra[i+1]
	}
	return e.oidc.token(t, c)
}

func (e *fedEnv) googTok(t *testing.T, sub string) string {
	return e.goog.token(t, map[string]any{"sub": sub, "aud": "gclient"})
}

func (e *fedEnv) userPoolTok(t *testing.T, sub string) string {
	return e.cognito.token(t, map[string]any{"sub": sub, "aud": "upclient", "token_use": "id", "cognito:username": sub})
}

func (e *fedEnv) getID(t *testing.T, pool string, logins map[string]string) (string, error) {
	out, err := e.c.GetId(context.Background(), &ci.GetIdInput{IdentityPoolId: &pool, Logins: logins})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.IdentityId), nil
}

func TestFederatedProviders(t *testing.T) {
	e := newFedEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, key, detail string
		tok               func(sub string) string
	}{
		{"oidc", e.oidc.Name(), e.arn + ":OIDC:alice", func(s string) string { return e.oidcTok(t, s) }},
		{"cognito user pool", userPoolName, userPoolName + ":CognitoSignIn:alice", func(s string) string { return e.userPoolTok(t, s) }},
		{"google", "accounts.google.com", "accounts.google.com:gclient:alice", func(s string) string { return e.googTok(t, s) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := e.getID(t, e.pool, map[string]string{tc.key: tc.tok("alice")})
			if err != nil {
				t.Fatal(err)
			}
			again, err := e.getID(t, e.pool, map[string]string{tc.key: tc.tok("alice")})
			if err != nil || again != id {
				t.Fatalf("second GetId: %s %v", again, err)
			}
			other, _ := e.getID(t, e.pool, map[string]string{tc.key: tc.tok("bob")})
			if other == id || other == "" {
				t.Fatal("another user got the same identity")
			}
			out, err := e.c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: &id, Logins: map[string]string{tc.key: tc.tok("alice")}})
			if err != nil || aws.ToString(out.IdentityId) != id {
				t.Fatalf("GetOpenIdToken: %v", err)
			}
			_, claims := verifyToken(t, e.s, aws.ToString(out.Token))
			if got, want := fmt.Sprint(claims["amr"]), fmt.Sprint([]any{"authenticated", tc.key, tc.detail}); got != want {
				t.Fatalf("amr %s, want %s", got, want)
			}
			d, _ := e.c.DescribeIdentity(ctx, &ci.DescribeIdentityInput{IdentityId: &id})
			if fmt.Sprint(d.Logins) != "["+tc.key+"]" {
				t.Fatalf("describe logins %v", d.Logins)
			}
			// Logins that do not belong to the identity are refused.
			_, err = e.c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: &id})
			apiErr(t, err, "NotAuthorizedException")
		})
	}
}

func TestFederatedRefusals(t *testing.T) {
	e := newFedEnv(t)
	intruder := newIDP(t, "/tenant") // same path, other keys
	for _, tc := range []struct {
		name   string
		logins map[string]string
		pool   string
		code   string
		msg    string
	}{
		{"wrong signature", map[string]string{e.oidc.Name(): intruder.token(t, map[string]any{"iss": e.oidc.Issuer(), "sub": "x", "aud": "app-client"})},
			e.pool, "NotAuthorizedException", "Invalid login token. Token signature is invalid."},
		{"wrong audience", map[string]string{e.oidc.Name(): e.oidc.token(t, map[string]any{"sub": "x", "aud": "someone-else"})},
			e.pool, "NotAuthorizedException", "Token is not from a supported provider of this identity pool."},
		{"expired", map[string]string{e.oidc.Name(): e.oidc.token(t, map[string]any{"sub": "x", "aud": "app-client", "exp": time.Now().Add(-6 * time.Minute).Unix()})},
			e.pool, "NotAuthorizedException", "Invalid login token. Token expired: "},
		{"unknown issuer", map[string]string{e.oidc.Name(): e.oidc.token(t, map[string]any{"iss": "https://evil.example", "sub": "x", "aud": "app-client"})},
			e.pool, "NotAuthorizedException", "Invalid login token. Issuer doesn't match providerName"},
		{"missing aud", map[string]string{e.oidc.Name(): e.oidc.token(t, map[string]any{"sub": "x"})},
			e.pool, "NotAuthorizedException", "Invalid login token. Missing a required claim: aud"},
		{"user pool access token", map[string]string{userPoolName: e.cognito.token(t, map[string]any{"sub": "x", "token_use": "access", "client_id": "upclient"})},
			e.pool, "NotAuthorizedException", "Invalid login token. Missing a required claim: aud"},
		{"untrusted provider", map[string]string{"issuer.untrusted.example": e.oidcTok(t, "x")},
			e.pool, "NotAuthorizedException", "Token is not from a supported provider of this identity pool."},
		{"not a JWT", map[string]string{e.oidc.Name(): "not-a-token"},
			e.pool, "NotAuthorizedException", "Invalid login token."},
		{"alg none", map[string]string{e.oidc.Name(): "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
			e.pool, "NotAuthorizedException", "Invalid login token."},
		{"guests not allowed", nil, e.pool, "NotAuthorizedException", "Unauthenticated access is not supported for this identity pool."},
		{"cognito token in GetId", map[string]string{"cognito-identity.amazonaws.com": "x"}, e.pool, "NotAuthorizedException",
			"Invalid login token. Can't pass in a Cognito token."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.getID(t, tc.pool, tc.logins)
			if msg := apiErr(t, err, tc.code); !strings.HasPrefix(msg, tc.msg) {
				t.Fatalf("message %q, want prefix %q", msg, tc.msg)
			}
		})
	}
}

func TestGetIdAccountID(t *testing.T) {
	e := newFedEnv(t)
	ctx := context.Background()
	_, err := e.c.GetId(ctx, &ci.GetIdInput{IdentityPoolId: &e.guests, AccountId: aws.String("123456789012")})
	apiErr(t, err, "NotAuthorizedException")
	if _, err := e.c.GetId(ctx, &ci.GetIdInput{IdentityPoolId: &e.guests, AccountId: aws.String("000000000000")}); err != nil {
		t.Fatalf("own account: %v", err)
	}
	_, err = e.c.GetId(ctx, &ci.GetIdInput{IdentityPoolId: aws.String("us-east-1:00000000-0000-0000-0000-000000000000")})
	apiErr(t, err, "ResourceNotFoundException")
}

func TestFederatedMerging(t *testing.T) {
	e := newFedEnv(t)
	ctx := context.Background()
	a, _ := e.getID(t, e.pool, map[string]string{"accounts.google.com": e.googTok(t, "g1")})
	b, _ := e.getID(t, e.pool, map[string]string{e.oidc.Name(): e.oidcTok(t, "o1")})
	// GetId with logins of two identities: the oldest survives.
	got, err := e.getID(t, e.pool, map[string]string{"accounts.google.com": e.googTok(t, "g1"), e.oidc.Name(): e.oidcTok(t, "o1")})
	if err != nil || got != a {
		t.Fatalf("GetId merge returned %s (%v), want the older %s", got, err, a)
	}
	d, _ := e.c.DescribeIdentity(ctx, &ci.DescribeIdentityInput{IdentityId: &a})
	if len(d.Logins) != 2 {
		t.Fatalf("merged identity logins %v", d.Logins)
	}
	if _, err := e.c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: &b, Logins: map[string]string{e.oidc.Name(): e.oidcTok(t, "o1")}}); err == nil {
		t.Fatal("the merged-away identity still gets tokens")
	}
	l, _ := e.c.ListIdentities(ctx, &ci.ListIdentitiesInput{IdentityPoolId: &e.pool, MaxResults: aws.Int32(60), HideDisabled: true})
	if len(l.Identities) != 1 {
		t.Fatalf("%d visible identities after the merge", len(l.Identities))
	}

	// Guest to authenticated: a new login is linked and the ID is kept.
	g, _ := e.getID(t, e.guests, nil)
	out, err := e.c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: &g, Logins: map[string]string{"accounts.google.com": e.googTok(t, "new")}})
	if err != nil || aws.ToString(out.IdentityId) != g {
		t.Fatalf("guest upgrade: %v %v", err, out)
	}
	// A guest presenting a login another identity owns merges into it.
	owner, _ := e.getID(t, e.guests, map[string]string{e.oidc.Name(): e.oidcTok(t, "owner")})
	g2, _ := e.getID(t, e.guests, nil)
	out, err = e.c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: &g2, Logins: map[string]string{e.oidc.Name(): e.oidcTok(t, "owner")}})
	if err != nil || aws.ToString(out.IdentityId) != owner {
		t.Fatalf("guest merge returned %v (%v), want %s", aws.ToString(out.IdentityId), err, owner)
	}
	// One login per provider: identity a holds Google user g1, so a second
	// Google user cannot be linked to it.
	_, err = e.c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: &a,
		Logins: map[string]string{e.oidc.Name(): e.oidcTok(t, "o1"), "accounts.google.com": e.googTok(t, "g2")}})
	apiErr(t, err, "ResourceConflictException")
	// Two identities holding different users of one provider cannot merge.
	c1, _ := e.getID(t, e.pool, map[string]string{"accounts.google.com": e.googTok(t, "c1")})
	_, _ = e.getID(t, e.pool, map[string]string{e.oidc.Name(): e.oidcTok(t, "c2")})
	_, err = e.c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: &c1,
		Logins: map[string]string{"accounts.google.com": e.googTok(t, "c1"), e.oidc.Name(): e.oidcTok(t, "o1")}})
	apiErr(t, err, "ResourceConflictException")
}

func TestFederatedLoginLimit(t *testing.T) {
	e := newFedEnv(t)
	ctx := context.Background()
	// A developer identity with 19 developer users and a Google login.
	_, err := e.c.UpdateIdentityPool(ctx, &ci.UpdateIdentityPoolInput{IdentityPoolId: &e.pool, IdentityPoolName: aws.String("federated"),
		DeveloperProviderName: aws.String(devProvider), OpenIdConnectProviderARNs: []string{e.arn},
		SupportedLoginProviders: map[string]string{"accounts.google.com": "gclient"}})
	if err != nil {
		t.Fatal(err)
	}
	devToken(t, e.c, e.pool, "u0")
	for i := 1; i < 19; i++ {
		devToken(t, e.c, e.pool, fmt.Sprintf("u%d", i))
		if _, err := e.c.MergeDeveloperIdentities(ctx, &ci.MergeDeveloperIdentitiesInput{IdentityPoolId: &e.pool, DeveloperProviderName: aws.String(devProvider),
			SourceUserIdentifier: aws.String(fmt.Sprintf("u%d", i)), DestinationUserIdentifier: aws.String("u0")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := devToken(t, e.c, e.pool, "u0", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) {
		in.Logins["accounts.google.com"] = e.googTok(t, "limit")
	}); err != nil {
		t.Fatalf("linking the 20th login: %v", err)
	}
	_, err = e.getID(t, e.pool, map[string]string{"accounts.google.com": e.googTok(t, "limit"), e.oidc.Name(): e.oidcTok(t, "limit")})
	apiErr(t, err, "LimitExceededException")
	_, err = devToken(t, e.c, e.pool, "u0", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) { in.Logins[e.oidc.Name()] = e.oidcTok(t, "limit") })
	apiErr(t, err, "ResourceConflictException")
}

func TestUnlinkIdentity(t *testing.T) {
	e := newFedEnv(t)
	ctx := context.Background()
	id, _ := e.getID(t, e.pool, map[string]string{"accounts.google.com": e.googTok(t, "u"), e.oidc.Name(): e.oidcTok(t, "u")})
	unlink := func(proof map[string]string, remove ...string) error {
		_, err := e.c.UnlinkIdentity(ctx, &ci.UnlinkIdentityInput{IdentityId: &id, Logins: proof, LoginsToRemove: remove})
		return err
	}
	apiErr(t, unlink(map[string]string{"accounts.google.com": e.googTok(t, "someone-else")}, e.oidc.Name()), "NotAuthorizedException")
	apiErr(t, unlink(map[string]string{"accounts.google.com": e.googTok(t, "u")}, userPoolName), "InvalidParameterException")
	if err := unlink(map[string]string{"accounts.google.com": e.googTok(t, "u")}, e.oidc.Name()); err != nil {
		t.Fatal(err)
	}
	// The removed login is forgotten: it now makes a new identity.
	n, _ := e.getID(t, e.pool, map[string]string{e.oidc.Name(): e.oidcTok(t, "u")})
	if n == id {
		t.Fatal("unlinked login still resolves to the identity")
	}
	// Removing the last login makes the identity inaccessible.
	if err := unlink(map[string]string{"accounts.google.com": e.googTok(t, "u")}, "accounts.google.com"); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: &id})
	apiErr(t, err, "NotAuthorizedException")
}

func TestProviderKeyRotationAndOutage(t *testing.T) {
	e := newFedEnv(t)
	id, err := e.getID(t, e.pool, map[string]string{e.oidc.Name(): e.oidcTok(t, "r")})
	if err != nil {
		t.Fatal(err)
	}
	before := e.oidc.fetches.Load()
	for range 5 {
		if _, err := e.getID(t, e.pool, map[string]string{e.oidc.Name(): e.oidcTok(t, "r")}); err != nil {
			t.Fatal(err)
		}
	}
	if e.oidc.fetches.Load() != before {
		t.Fatalf("JWKS fetched %d more times for a cached key", e.oidc.fetches.Load()-before)
	}
	// The provider rotates to an EC key: fedid refetches on the unknown kid.
	e.oidc.rotate(t, true)
	time.Sleep(20 * time.Millisecond) // past MinRefresh
	got, err := e.getID(t, e.pool, map[string]string{e.oidc.Name(): e.oidcTok(t, "r")})
	if err != nil || got != id {
		t.Fatalf("after provider rotation: %s %v", got, err)
	}
	if e.oidc.fetches.Load() != before+1 {
		t.Fatalf("JWKS fetches %d, want one refetch", e.oidc.fetches.Load()-before)
	}
	// An outage of a provider whose keys are not cached: a clear error,
	// not a hang.
	e.goog.delay.Store(int64(3 * time.Second))
	t0 := time.Now()
	_, err = e.getID(t, e.pool, map[string]string{"accounts.google.com": e.googTok(t, "g")})
	if msg := apiErr(t, err, "ExternalServiceException"); !strings.Contains(msg, "accounts.google.com is not responding") {
		t.Fatalf("message %q", msg)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("outage took %v to report", d)
	}
}
