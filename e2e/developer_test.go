package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

const devProvider = "login.example"

// devToken mints a developer token through the SDK.
func devToken(tb testing.TB, c *ci.Client, pool, user string, mods ...func(*ci.GetOpenIdTokenForDeveloperIdentityInput)) (*ci.GetOpenIdTokenForDeveloperIdentityOutput, error) {
	tb.Helper()
	in := &ci.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(pool),
		Logins:         map[string]string{devProvider: user},
	}
	for _, m := range mods {
		m(in)
	}
	return c.GetOpenIdTokenForDeveloperIdentity(context.Background(), in)
}

// verifyToken checks a token with go-jose, an independent JOSE
// implementation, against the JWKS fetched over HTTP, and returns its
// header and claims.
func verifyToken(tb testing.TB, s *server, token string) (map[string]any, map[string]any) {
	tb.Helper()
	res, err := http.Get(s.URL + "/.well-known/jwks_uri")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
		tb.Fatalf("JWKS Cache-Control %q", cc)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		tb.Fatalf("JWKS: %v", err)
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS512})
	if err != nil {
		tb.Fatalf("parse token: %v", err)
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		tb.Fatalf("kid %q not in JWKS", kid)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		tb.Fatalf("signature does not verify: %v", err)
	}
	var claims, header map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		tb.Fatal(err)
	}
	hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err := json.Unmarshal(hb, &header); err != nil {
		tb.Fatal(err)
	}
	return header, claims
}

func TestDeveloperTokenClaims(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	pool := aws.ToString(createPool(t, c, "dev").IdentityPoolId)

	out, err := devToken(t, c, pool, "user1", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) {
		in.PrincipalTags = map[string]string{"team": "blue"}
		in.TokenDuration = aws.Int64(3600)
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.IdentityId)
	if !strings.HasPrefix(id, "us-east-1:") {
		t.Fatalf("identity id %q", id)
	}
	header, claims := verifyToken(t, s, aws.ToString(out.Token))
	if header["alg"] != "RS512" || header["typ"] != "JWS" || header["kid"] == "" {
		t.Fatalf("header %v", header)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(aws.ToString(out.Token), ".")[0])
	if !strings.HasPrefix(string(raw), `{"kid":`) {
		t.Fatalf("header member order: %s", raw)
	}
	amr := fmt.Sprint(claims["amr"])
	wantAMR := fmt.Sprint([]any{"authenticated", devProvider, devProvider + ":" + pool + ":user1"})
	if claims["sub"] != id || claims["aud"] != pool || claims["iss"] != s.URL || amr != wantAMR ||
		claims["https://cognito-identity.amazonaws.com/identity-pool-arn"] != "arn:aws:cognito-identity:us-east-1:000000000000:identitypool/"+pool {
		t.Fatalf("claims %v", claims)
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 3600 || time.Since(time.Unix(int64(iat), 0)) > time.Minute {
		t.Fatalf("exp %v iat %v", exp, iat)
	}
	tags, _ := json.Marshal(claims["https://aws.amazon.com/tags"])
	if string(tags) != `{"principal_tags":{"team":["blue"]}}` {
		t.Fatalf("tags claim %s", tags)
	}

	// Same user again: same identity, fresh token, default duration 900 s,
	// no tags claim.
	again, err := devToken(t, c, pool, "user1")
	if err != nil || aws.ToString(again.IdentityId) != id {
		t.Fatalf("second call: %v %v", err, again)
	}
	_, claims = verifyToken(t, s, aws.ToString(again.Token))
	if claims["exp"].(float64)-claims["iat"].(float64) != 900 {
		t.Fatalf("default duration: %v", claims)
	}
	if _, ok := claims["https://aws.amazon.com/tags"]; ok {
		t.Fatal("tags claim without principal tags")
	}
	// Another user, another identity.
	other, err := devToken(t, c, pool, "user2")
	if err != nil || aws.ToString(other.IdentityId) == id {
		t.Fatalf("user2: %v %v", err, other)
	}
}

// TestGenericOIDCVerifier verifies a token the way a third party would,
// starting from the discovery document.
func TestGenericOIDCVerifier(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	pool := aws.ToString(createPool(t, c, "oidc").IdentityPoolId)
	out, err := devToken(t, c, pool, "user1")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, s.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	v := provider.Verifier(&oidc.Config{ClientID: pool, SupportedSigningAlgs: []string{"RS512"}})
	tok, err := v.Verify(ctx, aws.ToString(out.Token))
	if err != nil {
		t.Fatalf("go-oidc verify: %v", err)
	}
	if tok.Subject != aws.ToString(out.IdentityId) || tok.Issuer != s.URL {
		t.Fatalf("token %+v", tok)
	}
	// Wrong audience is refused by the generic verifier.
	if _, err := provider.Verifier(&oidc.Config{ClientID: "us-east-1:other", SupportedSigningAlgs: []string{"RS512"}}).Verify(ctx, aws.ToString(out.Token)); err == nil {
		t.Fatal("token accepted for another audience")
	}
	res, err := http.Get(s.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil || doc["issuer"] != s.URL || doc["jwks_uri"] != s.URL+"/.well-known/jwks_uri" {
		t.Fatalf("discovery %s", b)
	}
	for _, p := range []string{"/.well-known/jwks.json", "/.well-known/jwks_uri"} {
		res, err := http.Get(s.URL + p)
		if err != nil || res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET %s: %v %v", p, err, res)
		}
		res.Body.Close()
	}
}

func TestDeveloperErrors(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	ctx := context.Background()
	pool := aws.ToString(createPool(t, c, "dev").IdentityPoolId)
	noDev := aws.ToString(createPool(t, c, "nodev", func(in *ci.CreateIdentityPoolInput) { in.DeveloperProviderName = nil }).IdentityPoolId)

	_, err := devToken(t, c, noDev, "u")
	if msg := apiErr(t, err, "NotAuthorizedException"); msg != "This identity pool does not support the specified developer provider." {
		t.Fatalf("message %q", msg)
	}
	_, err = c.GetOpenIdTokenForDeveloperIdentity(ctx, &ci.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: &pool, Logins: map[string]string{"wrong.provider": "u"}})
	apiErr(t, err, "NotAuthorizedException")
	_, err = c.GetOpenIdTokenForDeveloperIdentity(ctx, &ci.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: &pool, Logins: map[string]string{devProvider: "u", "cognito-identity.amazonaws.com": "x"}})
	if msg := apiErr(t, err, "NotAuthorizedException"); msg != "Invalid login token. Can't pass in a Cognito token." {
		t.Fatalf("message %q", msg)
	}
	_, err = c.GetOpenIdTokenForDeveloperIdentity(ctx, &ci.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: &pool, Logins: map[string]string{devProvider: "u", "accounts.google.com": "tok"}})
	if msg := apiErr(t, err, "NotAuthorizedException"); msg != "Token is not from a supported provider of this identity pool." {
		t.Fatalf("untrusted provider message %q", msg)
	}
	_, err = devToken(t, c, pool, strings.Repeat("u", 1025))
	apiErr(t, err, "InvalidParameterException")
	_, err = devToken(t, c, "us-east-1:00000000-0000-0000-0000-000000000000", "u")
	apiErr(t, err, "ResourceNotFoundException")
	_, err = devToken(t, s.client(otherKeyID, otherSecret, "us-east-1"), pool, "u")
	apiErr(t, err, "ResourceNotFoundException")
	_, err = devToken(t, c, pool, "u", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) { in.TokenDuration = aws.Int64(86401) })
	apiErr(t, err, "ValidationException")
	_, err = devToken(t, c, pool, "u", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) { in.TokenDuration = aws.Int64(0) })
	apiErr(t, err, "ValidationException")
	tooMany := map[string]string{}
	for i := range 51 {
		tooMany[fmt.Sprintf("k%d", i)] = "v"
	}
	_, err = devToken(t, c, pool, "u", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) { in.PrincipalTags = tooMany })
	apiErr(t, err, "ValidationException")
	_, err = devToken(t, c, pool, "u", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) {
		in.PrincipalTags = map[string]string{"k": strings.Repeat("v", 257)}
	})
	apiErr(t, err, "ValidationException")
	_, err = devToken(t, c, pool, "u", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) { in.PrincipalTags = map[string]string{"k": ""} })
	apiErr(t, err, "ValidationException")

	// IdentityId rules.
	a, _ := devToken(t, c, pool, "alice")
	b, _ := devToken(t, c, pool, "bob")
	_, err = devToken(t, c, pool, "alice", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) { in.IdentityId = b.IdentityId })
	apiErr(t, err, "DeveloperUserAlreadyRegisteredException")
	same, err := devToken(t, c, pool, "alice", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) { in.IdentityId = a.IdentityId })
	if err != nil || aws.ToString(same.IdentityId) != aws.ToString(a.IdentityId) {
		t.Fatalf("idempotent: %v", err)
	}
	_, err = devToken(t, c, pool, "carol", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) { in.IdentityId = a.IdentityId })
	if msg := apiErr(t, err, "NotAuthorizedException"); !strings.HasPrefix(msg, "Logins don't match") {
		t.Fatalf("message %q", msg)
	}
	_, err = devToken(t, c, pool, "carol", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) {
		in.IdentityId = aws.String("us-east-1:00000000-0000-0000-0000-000000000000")
	})
	apiErr(t, err, "ResourceNotFoundException")

	// Guest to authenticated: the guest identity keeps its ID.
	guest, err := c.GetId(ctx, &ci.GetIdInput{IdentityPoolId: &pool})
	if err != nil {
		t.Fatal(err)
	}
	up, err := devToken(t, c, pool, "dave", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) { in.IdentityId = guest.IdentityId })
	if err != nil || aws.ToString(up.IdentityId) != aws.ToString(guest.IdentityId) {
		t.Fatalf("upgrade: %v %v", err, up)
	}
	d, _ := devToken(t, c, pool, "dave")
	if aws.ToString(d.IdentityId) != aws.ToString(guest.IdentityId) {
		t.Fatal("dave's identity is not the upgraded guest")
	}
}

func TestLoginLimit(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	ctx := context.Background()
	pool := aws.ToString(createPool(t, c, "limit").IdentityPoolId)
	// Merge 20 developer users onto one identity, then one more fails.
	dst, _ := devToken(t, c, pool, "u0")
	for i := 1; i < 21; i++ {
		if _, err := devToken(t, c, pool, fmt.Sprintf("u%d", i)); err != nil {
			t.Fatal(err)
		}
		_, err := c.MergeDeveloperIdentities(ctx, &ci.MergeDeveloperIdentitiesInput{IdentityPoolId: &pool,
			DeveloperProviderName: aws.String(devProvider), SourceUserIdentifier: aws.String(fmt.Sprintf("u%d", i)),
			DestinationUserIdentifier: aws.String("u0")})
		if i < 20 && err != nil {
			t.Fatalf("merge %d: %v", i, err)
		}
		if i == 20 {
			apiErr(t, err, "ResourceConflictException")
		}
	}
	l, err := c.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: &pool, IdentityId: dst.IdentityId})
	if err != nil || len(l.DeveloperUserIdentifierList) != 20 {
		t.Fatalf("lookup: %v %d", err, len(l.DeveloperUserIdentifierList))
	}
}

func TestConcurrentFirstCalls(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	pool := aws.ToString(createPool(t, c, "race").IdentityPoolId)
	var wg sync.WaitGroup
	ids := make([]string, 20)
	errs := make([]error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := devToken(t, c, pool, "racer")
			errs[i] = err
			if err == nil {
				ids[i] = aws.ToString(out.IdentityId)
			}
		}()
	}
	wg.Wait()
	for i := range 20 {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("two identities for one developer user: %s and %s", ids[0], ids[i])
		}
	}
	l, err := c.ListIdentities(context.Background(), &ci.ListIdentitiesInput{IdentityPoolId: &pool, MaxResults: aws.Int32(60)})
	if err != nil || len(l.Identities) != 1 {
		t.Fatalf("pool holds %d identities (%v)", len(l.Identities), err)
	}
}

func TestLookupMergeUnlink(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	ctx := context.Background()
	pool := aws.ToString(createPool(t, c, "lmu").IdentityPoolId)
	a, _ := devToken(t, c, pool, "a")
	b, _ := devToken(t, c, pool, "b")

	l, err := c.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: &pool, DeveloperUserIdentifier: aws.String("a")})
	if err != nil || aws.ToString(l.IdentityId) != aws.ToString(a.IdentityId) || fmt.Sprint(l.DeveloperUserIdentifierList) != "[a]" {
		t.Fatalf("lookup a: %v %+v", err, l)
	}
	_, err = c.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: &pool})
	apiErr(t, err, "InvalidParameterException")
	_, err = c.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: &pool, DeveloperUserIdentifier: aws.String("nobody")})
	apiErr(t, err, "ResourceNotFoundException")
	_, err = c.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: &pool, IdentityId: b.IdentityId, DeveloperUserIdentifier: aws.String("a")})
	apiErr(t, err, "ResourceConflictException")

	// Merge b into a: a's identity now holds both; b's is disabled.
	m, err := c.MergeDeveloperIdentities(ctx, &ci.MergeDeveloperIdentitiesInput{IdentityPoolId: &pool,
		DeveloperProviderName: aws.String(devProvider), SourceUserIdentifier: aws.String("b"), DestinationUserIdentifier: aws.String("a")})
	if err != nil || aws.ToString(m.IdentityId) != aws.ToString(a.IdentityId) {
		t.Fatalf("merge: %v %v", err, m)
	}
	tb, _ := devToken(t, c, pool, "b")
	if aws.ToString(tb.IdentityId) != aws.ToString(a.IdentityId) {
		t.Fatal("b's token is not for the merged identity")
	}
	// Pagination over the developer identifiers.
	l, err = c.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: &pool, IdentityId: a.IdentityId, MaxResults: aws.Int32(1)})
	if err != nil || len(l.DeveloperUserIdentifierList) != 1 || l.NextToken == nil {
		t.Fatalf("page 1: %v %+v", err, l)
	}
	l2, err := c.LookupDeveloperIdentity(ctx, &ci.LookupDeveloperIdentityInput{IdentityPoolId: &pool, IdentityId: a.IdentityId, MaxResults: aws.Int32(1), NextToken: l.NextToken})
	if err != nil || fmt.Sprint(l.DeveloperUserIdentifierList, l2.DeveloperUserIdentifierList) != "[a] [b]" || l2.NextToken != nil {
		t.Fatalf("page 2: %v %+v", err, l2)
	}
	_, err = c.MergeDeveloperIdentities(ctx, &ci.MergeDeveloperIdentitiesInput{IdentityPoolId: &pool,
		DeveloperProviderName: aws.String("other.provider"), SourceUserIdentifier: aws.String("b"), DestinationUserIdentifier: aws.String("a")})
	apiErr(t, err, "InvalidParameterException")
	_, err = c.MergeDeveloperIdentities(ctx, &ci.MergeDeveloperIdentitiesInput{IdentityPoolId: &pool,
		DeveloperProviderName: aws.String(devProvider), SourceUserIdentifier: aws.String("zz"), DestinationUserIdentifier: aws.String("a")})
	apiErr(t, err, "ResourceNotFoundException")

	// DescribeIdentity lists provider names, never identifiers.
	d, err := c.DescribeIdentity(ctx, &ci.DescribeIdentityInput{IdentityId: a.IdentityId})
	if err != nil || fmt.Sprint(d.Logins) != "["+devProvider+"]" || d.CreationDate == nil || d.LastModifiedDate.Before(*d.CreationDate) {
		t.Fatalf("describe: %v %+v", err, d)
	}
	if time.Since(*d.CreationDate) > time.Minute {
		t.Fatalf("creation date %v", d.CreationDate)
	}
	_, err = s.client(otherKeyID, otherSecret, "us-east-1").DescribeIdentity(ctx, &ci.DescribeIdentityInput{IdentityId: a.IdentityId})
	apiErr(t, err, "ResourceNotFoundException")

	// ListIdentities: the disabled b identity shows unless hidden.
	all, _ := c.ListIdentities(ctx, &ci.ListIdentitiesInput{IdentityPoolId: &pool, MaxResults: aws.Int32(60)})
	hidden, _ := c.ListIdentities(ctx, &ci.ListIdentitiesInput{IdentityPoolId: &pool, MaxResults: aws.Int32(60), HideDisabled: true})
	if len(all.Identities) != 2 || len(hidden.Identities) != 1 || aws.ToString(hidden.Identities[0].IdentityId) != aws.ToString(a.IdentityId) {
		t.Fatalf("list all=%d hidden=%d", len(all.Identities), len(hidden.Identities))
	}

	// Unlink b: a keeps a; b becomes free and gets a new identity.
	_, err = c.UnlinkDeveloperIdentity(ctx, &ci.UnlinkDeveloperIdentityInput{IdentityPoolId: &pool, IdentityId: a.IdentityId,
		DeveloperProviderName: aws.String(devProvider), DeveloperUserIdentifier: aws.String("b")})
	if err != nil {
		t.Fatal(err)
	}
	nb, _ := devToken(t, c, pool, "b")
	if aws.ToString(nb.IdentityId) == aws.ToString(a.IdentityId) || aws.ToString(nb.IdentityId) == aws.ToString(b.IdentityId) {
		t.Fatal("unlinked user did not get a new identity")
	}
	_, err = c.UnlinkDeveloperIdentity(ctx, &ci.UnlinkDeveloperIdentityInput{IdentityPoolId: &pool, IdentityId: a.IdentityId,
		DeveloperProviderName: aws.String(devProvider), DeveloperUserIdentifier: aws.String("b")})
	apiErr(t, err, "ResourceConflictException")
	_, err = c.UnlinkDeveloperIdentity(ctx, &ci.UnlinkDeveloperIdentityInput{IdentityPoolId: &pool, IdentityId: a.IdentityId,
		DeveloperProviderName: aws.String(devProvider), DeveloperUserIdentifier: aws.String("never")})
	apiErr(t, err, "ResourceNotFoundException")
	// Removing the last login makes the identity inaccessible.
	_, err = c.UnlinkDeveloperIdentity(ctx, &ci.UnlinkDeveloperIdentityInput{IdentityPoolId: &pool, IdentityId: a.IdentityId,
		DeveloperProviderName: aws.String(devProvider), DeveloperUserIdentifier: aws.String("a")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: a.IdentityId})
	apiErr(t, err, "NotAuthorizedException")
}

func TestDeleteIdentities(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	ctx := context.Background()
	pool := aws.ToString(createPool(t, c, "del").IdentityPoolId)
	a, _ := devToken(t, c, pool, "a")
	other := s.client(otherKeyID, otherSecret, "us-east-1")
	opool := aws.ToString(createPool(t, other, "o").IdentityPoolId)
	o, _ := devToken(t, other, opool, "o")
	missing := "us-east-1:00000000-0000-0000-0000-000000000000"
	out, err := c.DeleteIdentities(ctx, &ci.DeleteIdentitiesInput{IdentityIdsToDelete: []string{
		aws.ToString(a.IdentityId), aws.ToString(o.IdentityId), missing, aws.ToString(a.IdentityId)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.UnprocessedIdentityIds) != 1 || aws.ToString(out.UnprocessedIdentityIds[0].IdentityId) != aws.ToString(o.IdentityId) ||
		string(out.UnprocessedIdentityIds[0].ErrorCode) != "AccessDenied" {
		t.Fatalf("unprocessed %+v", out.UnprocessedIdentityIds)
	}
	_, err = c.DescribeIdentity(ctx, &ci.DescribeIdentityInput{IdentityId: a.IdentityId})
	apiErr(t, err, "ResourceNotFoundException")
	// The developer user is free again.
	na, _ := devToken(t, c, pool, "a")
	if aws.ToString(na.IdentityId) == aws.ToString(a.IdentityId) {
		t.Fatal("deleted identity came back")
	}
	if _, err := other.DescribeIdentity(ctx, &ci.DescribeIdentityInput{IdentityId: o.IdentityId}); err != nil {
		t.Fatalf("foreign identity was deleted: %v", err)
	}
}

func TestGetOpenIdTokenWithDeveloperToken(t *testing.T) {
	clock := &fixedClock{t: time.Now()}
	s := start(t, startOpts{clock: clock})
	c := s.testClient()
	ctx := context.Background()
	pool := aws.ToString(createPool(t, c, "basic").IdentityPoolId)
	dt, err := devToken(t, c, pool, "user1", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) {
		in.PrincipalTags = map[string]string{"team": "blue"}
		in.TokenDuration = aws.Int64(60)
	})
	if err != nil {
		t.Fatal(err)
	}
	logins := map[string]string{"cognito-identity.amazonaws.com": aws.ToString(dt.Token)}
	out, err := c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: dt.IdentityId, Logins: logins})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.IdentityId) != aws.ToString(dt.IdentityId) {
		t.Fatal("identity changed")
	}
	_, claims := verifyToken(t, s, aws.ToString(out.Token))
	if claims["exp"].(float64)-claims["iat"].(float64) != 600 || claims["sub"] != aws.ToString(dt.IdentityId) {
		t.Fatalf("fresh token claims %v", claims)
	}
	amr := claims["amr"].([]any)
	if amr[0] != "authenticated" || amr[1] != devProvider {
		t.Fatalf("amr %v", amr)
	}

	// Without logins an authenticated identity is refused.
	_, err = c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: dt.IdentityId})
	if msg := apiErr(t, err, "NotAuthorizedException"); !strings.HasPrefix(msg, "Logins don't match") {
		t.Fatalf("message %q", msg)
	}
	// A forged token (payload changed, signature kept).
	parts := strings.Split(aws.ToString(dt.Token), ".")
	var p map[string]any
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(pb, &p)
	p["exp"] = p["exp"].(float64) + 100000
	nb, _ := json.Marshal(p)
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(nb) + "." + parts[2]
	_, err = c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: dt.IdentityId, Logins: map[string]string{"cognito-identity.amazonaws.com": forged}})
	apiErr(t, err, "NotAuthorizedException")
	_, err = c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: dt.IdentityId, Logins: map[string]string{"cognito-identity.amazonaws.com": "not-a-jwt"}})
	apiErr(t, err, "NotAuthorizedException")
	// A token of another identity.
	other, _ := devToken(t, c, pool, "user2")
	_, err = c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: dt.IdentityId, Logins: map[string]string{"cognito-identity.amazonaws.com": aws.ToString(other.Token)}})
	apiErr(t, err, "NotAuthorizedException")
	// Expired: 60 s lifetime plus the 5 minute grace period.
	clock.Set(clock.Now().Add(6*time.Minute + time.Second))
	_, err = c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: dt.IdentityId, Logins: logins})
	if msg := apiErr(t, err, "NotAuthorizedException"); !strings.Contains(msg, "expired") {
		t.Fatalf("message %q", msg)
	}
}

func TestGuestTokensAndClassicFlow(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	ctx := context.Background()
	pool := aws.ToString(createPool(t, c, "guests").IdentityPoolId)
	g, err := c.GetId(ctx, &ci.GetIdInput{IdentityPoolId: &pool})
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := c.GetId(ctx, &ci.GetIdInput{IdentityPoolId: &pool})
	if aws.ToString(g2.IdentityId) == aws.ToString(g.IdentityId) {
		t.Fatal("GetId without logins must create a new guest each time")
	}
	out, err := c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: g.IdentityId})
	if err != nil {
		t.Fatal(err)
	}
	_, claims := verifyToken(t, s, aws.ToString(out.Token))
	if fmt.Sprint(claims["amr"]) != "[unauthenticated]" {
		t.Fatalf("guest amr %v", claims["amr"])
	}
	// Classic flow explicitly off blocks GetOpenIdToken.
	_, err = c.UpdateIdentityPool(ctx, &ci.UpdateIdentityPoolInput{IdentityPoolId: &pool, IdentityPoolName: aws.String("guests"),
		AllowUnauthenticatedIdentities: true, AllowClassicFlow: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: g.IdentityId})
	if msg := apiErr(t, err, "InvalidParameterException"); msg != "Basic (classic) flow is not enabled, please use enhanced flow." {
		t.Fatalf("message %q", msg)
	}
	// Guests off.
	_, err = c.UpdateIdentityPool(ctx, &ci.UpdateIdentityPoolInput{IdentityPoolId: &pool, IdentityPoolName: aws.String("guests")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: g.IdentityId})
	if msg := apiErr(t, err, "NotAuthorizedException"); msg != "Unauthenticated access is not supported for this identity pool." {
		t.Fatalf("message %q", msg)
	}
	_, err = c.GetId(ctx, &ci.GetIdInput{IdentityPoolId: &pool})
	apiErr(t, err, "NotAuthorizedException")
	_, err = c.GetId(ctx, &ci.GetIdInput{IdentityPoolId: &pool, Logins: map[string]string{"cognito-identity.amazonaws.com": "x"}})
	if msg := apiErr(t, err, "NotAuthorizedException"); msg != "Invalid login token. Can't pass in a Cognito token." {
		t.Fatalf("message %q", msg)
	}
}

var _ = sort.Strings

// TestHTTPSIssuerForSTS: with an https issuer, the discovery document and
// JWKS have what AWS STS requires of an OIDC provider: the issuer exactly
// as in the tokens, an https jwks_uri under it, RSA keys with kid, and
// RS512 (STS accepts RS256/384/512) with integer timestamps.
func TestHTTPSIssuerForSTS(t *testing.T) {
	const issuer = "https://fedid.example.com"
	s := start(t, startOpts{issuer: issuer + "/"})
	c := s.testClient()
	pool := aws.ToString(createPool(t, c, "sts").IdentityPoolId)
	out, err := devToken(t, c, pool, "u")
	if err != nil {
		t.Fatal(err)
	}
	_, claims := verifyToken(t, s, aws.ToString(out.Token))
	if claims["iss"] != issuer {
		t.Fatalf("iss %v", claims["iss"])
	}
	res, err := http.Get(s.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if doc.Issuer != issuer || doc.JWKSURI != issuer+"/.well-known/jwks_uri" || fmt.Sprint(doc.Algs) != "[RS512]" {
		t.Fatalf("discovery %+v", doc)
	}
	raw := strings.Split(aws.ToString(out.Token), ".")[1]
	pb, _ := base64.RawURLEncoding.DecodeString(raw)
	if !strings.Contains(string(pb), `"exp":`) || strings.Contains(string(pb), `"exp":"`) || strings.Contains(string(pb), `.0,`) {
		t.Fatalf("timestamps must be JSON integers: %s", pb)
	}
}
