package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/fedid/fedid/internal/federation"
	"github.com/fedid/fedid/internal/federation/socialtest"
)

const (
	fbAppID     = "1234567890123456"
	amznClient  = "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef"
	twConsumer  = "xvz1evFS4wEEPTGEFPHBog"
	twConsumerS = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
)

// socialEnv is a server whose Facebook, Login with Amazon and Twitter are
// local stubs, and a pool trusting the three beside a developer provider.
type socialEnv struct {
	s            *server
	c            *ci.Client
	fb, amzn, tw *socialtest.Provider
	pool         string
}

func newSocialEnv(t *testing.T) *socialEnv {
	t.Helper()
	e := &socialEnv{fb: socialtest.NewFacebook(t), amzn: socialtest.NewAmazon(t), tw: socialtest.NewTwitter(t, twConsumer, twConsumerS)}
	e.s = start(t, startOpts{federation: federation.Config{
		ProviderEndpoints: map[string]string{"graph.facebook.com": e.fb.URL(), "www.amazon.com": e.amzn.URL(), "api.twitter.com": e.tw.URL()},
		Timeout:           500 * time.Millisecond,
	}})
	e.c = e.s.testClient()
	e.pool = aws.ToString(createPool(t, e.c, "social", func(in *ci.CreateIdentityPoolInput) {
		in.AllowUnauthenticatedIdentities = false
		in.SupportedLoginProviders = map[string]string{
			"graph.facebook.com": fbAppID, "www.amazon.com": amznClient, "api.twitter.com": twConsumer + ";" + twConsumerS,
		}
	}).IdentityPoolId)
	if err := setRoles(t, e.c, e.pool, map[string]string{"authenticated": authRole}, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *socialEnv) stub(provider string) *socialtest.Provider {
	return map[string]*socialtest.Provider{"graph.facebook.com": e.fb, "www.amazon.com": e.amzn, "api.twitter.com": e.tw}[provider]
}

// login grants a new token of user (issued to the pool's app) and returns
// the logins value.
func (e *socialEnv) login(provider, token, user string) string {
	switch provider {
	case "graph.facebook.com":
		e.fb.Grant(token, socialtest.User{ID: user, App: fbAppID})
	case "www.amazon.com":
		e.amzn.Grant(token, socialtest.User{ID: user, App: amznClient})
	case "api.twitter.com":
		e.tw.Grant(token, socialtest.User{ID: user, Secret: "s-" + token})
		return token + ";s-" + token
	}
	return token
}

func (e *socialEnv) getID(logins map[string]string) (string, error) {
	out, err := e.c.GetId(context.Background(), &ci.GetIdInput{IdentityPoolId: &e.pool, Logins: logins})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.IdentityId), nil
}

// socialCases are the three providers with a user ID of their form.
var socialCases = []struct{ provider, client, user, other string }{
	{"graph.facebook.com", fbAppID, "10158000000000001", "10158000000000002"},
	{"www.amazon.com", amznClient, "amzn1.account.AF3EXAMPLEUSERONE", "amzn1.account.AF3EXAMPLEUSERTWO"},
	{"api.twitter.com", twConsumer, "783214", "6253282"},
}

// TestSocialLogins: one user of each provider is one identity through
// GetId, GetOpenIdToken, GetCredentialsForIdentity and UnlinkIdentity,
// whatever token of theirs is presented.
func TestSocialLogins(t *testing.T) {
	e := newSocialEnv(t)
	ctx := context.Background()
	for _, tc := range socialCases {
		t.Run(tc.provider, func(t *testing.T) {
			first := map[string]string{tc.provider: e.login(tc.provider, "first-"+tc.provider, tc.user)}
			id, err := e.getID(first)
			if err != nil {
				t.Fatal(err)
			}
			// Another token of the same user: the same identity.
			second := map[string]string{tc.provider: e.login(tc.provider, "second-"+tc.provider, tc.user)}
			if again, err := e.getID(second); err != nil || again != id {
				t.Fatalf("second token: %s %v, want %s", again, err, id)
			}
			if other, err := e.getID(map[string]string{tc.provider: e.login(tc.provider, "other-"+tc.provider, tc.other)}); err != nil || other == id {
				t.Fatalf("another user: %s %v", other, err)
			}
			tok, err := e.c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: &id, Logins: second})
			if err != nil || aws.ToString(tok.IdentityId) != id {
				t.Fatalf("GetOpenIdToken: %v", err)
			}
			_, claims := verifyToken(t, e.s, aws.ToString(tok.Token))
			want := fmt.Sprint([]any{"authenticated", tc.provider, tc.provider + ":" + tc.client + ":" + tc.user})
			if got := fmt.Sprint(claims["amr"]); got != want {
				t.Fatalf("amr %s, want %s", got, want)
			}
			if strings.Contains(fmt.Sprint(claims), twConsumerS) {
				t.Fatal("the token holds the consumer secret")
			}
			creds, err := e.c.GetCredentialsForIdentity(ctx, &ci.GetCredentialsForIdentityInput{IdentityId: &id, Logins: first})
			if err != nil || aws.ToString(creds.IdentityId) != id || aws.ToString(creds.Credentials.AccessKeyId) == "" {
				t.Fatalf("GetCredentialsForIdentity: %v", err)
			}
			d, err := e.c.DescribeIdentity(ctx, &ci.DescribeIdentityInput{IdentityId: &id})
			if err != nil || fmt.Sprint(d.Logins) != "["+tc.provider+"]" {
				t.Fatalf("describe: %v %v", d.Logins, err)
			}
			// Unlinking with a valid token of the login removes it; the
			// login then makes a new identity.
			if _, err := e.c.UnlinkIdentity(ctx, &ci.UnlinkIdentityInput{IdentityId: &id, Logins: first, LoginsToRemove: []string{tc.provider}}); err != nil {
				t.Fatalf("UnlinkIdentity: %v", err)
			}
			if n, err := e.getID(second); err != nil || n == id {
				t.Fatalf("after unlink: %s %v", n, err)
			}
		})
	}
}

func TestSocialRefusals(t *testing.T) {
	e := newSocialEnv(t)
	for _, tc := range socialCases {
		t.Run(tc.provider, func(t *testing.T) {
			stub := e.stub(tc.provider)
			// A token of another app (Twitter: a login the pool's app
			// cannot sign for).
			var foreign string
			switch tc.provider {
			case "graph.facebook.com":
				e.fb.Grant("foreign", socialtest.User{ID: tc.user, App: "999999"})
				foreign = "foreign"
			case "www.amazon.com":
				e.amzn.Grant("foreign", socialtest.User{ID: tc.user, App: "amzn1.application-oa2-client.someoneelse"})
				foreign = "foreign"
			case "api.twitter.com":
				e.tw.Grant("foreign", socialtest.User{ID: tc.user, Secret: "s-foreign"})
				foreign = "foreign;not-its-secret"
			}
			_, err := e.getID(map[string]string{tc.provider: foreign})
			if msg := apiErr(t, err, "NotAuthorizedException"); !strings.HasPrefix(msg, "Invalid login token. ") || strings.Contains(msg, "foreign") {
				t.Fatalf("other app: %q", msg)
			}
			// A revoked token.
			login := e.login(tc.provider, "revoked", tc.user)
			stub.Revoke("revoked")
			_, err = e.getID(map[string]string{tc.provider: login})
			if msg := apiErr(t, err, "NotAuthorizedException"); !strings.HasPrefix(msg, "Invalid login token. "+tc.provider+" refused the token") {
				t.Fatalf("revoked: %q", msg)
			}
			// Slow beyond the provider timeout, then down (a closed port).
			login = e.login(tc.provider, "outage", tc.user)
			stub.Delay.Store(int64(3 * time.Second))
			t0 := time.Now()
			_, err = e.getID(map[string]string{tc.provider: login})
			if msg := apiErr(t, err, "ExternalServiceException"); msg != tc.provider+" is not responding" {
				t.Fatalf("slow: %q", msg)
			}
			if d := time.Since(t0); d > 2*time.Second {
				t.Fatalf("slow provider took %v to report", d)
			}
			stub.Close()
			_, err = e.getID(map[string]string{tc.provider: login})
			if msg := apiErr(t, err, "ExternalServiceException"); msg != tc.provider+" is not responding" {
				t.Fatalf("down: %q", msg)
			}
		})
	}
	// Digits was retired.
	p := aws.ToString(createPool(t, e.c, "digits", func(in *ci.CreateIdentityPoolInput) {
		in.SupportedLoginProviders = map[string]string{"www.digits.com": "key;secret"}
	}).IdentityPoolId)
	_, err := e.c.GetId(context.Background(), &ci.GetIdInput{IdentityPoolId: &p, Logins: map[string]string{"www.digits.com": "x"}})
	if msg := apiErr(t, err, "NotAuthorizedException"); !strings.Contains(msg, "retired") {
		t.Fatalf("digits: %q", msg)
	}
}

// TestSocialBurst: a burst of GetOpenIdToken calls with one token makes one
// provider check (Facebook's is two requests: /app and /me).
func TestSocialBurst(t *testing.T) {
	e := newSocialEnv(t)
	ctx := context.Background()
	login := map[string]string{"graph.facebook.com": e.login("graph.facebook.com", "burst", "10158000000000009")}
	e.fb.Delay.Store(int64(30 * time.Millisecond))
	id, err := e.getID(login)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			out, err := e.c.GetOpenIdToken(ctx, &ci.GetOpenIdTokenInput{IdentityId: &id, Logins: login})
			if err == nil && aws.ToString(out.IdentityId) != id {
				err = fmt.Errorf("identity %s", aws.ToString(out.IdentityId))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fb.Calls.Load(); n != 2 {
		t.Fatalf("%d Graph requests for 21 calls with one token, want 2", n)
	}
}

// TestSocialMergeWithDeveloper: social logins link to and merge with
// developer identities as every other provider's do, and feed role rules.
func TestSocialMergeWithDeveloper(t *testing.T) {
	e := newSocialEnv(t)
	ctx := context.Background()
	// A developer identity links a Facebook login: GetId with it finds
	// the developer identity.
	dev, err := devToken(t, e.c, e.pool, "dev-1", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) {
		in.Logins["graph.facebook.com"] = e.login("graph.facebook.com", "fb-dev", "10158000000000100")
	})
	if err != nil {
		t.Fatal(err)
	}
	devID := aws.ToString(dev.IdentityId)
	if got, err := e.getID(map[string]string{"graph.facebook.com": "fb-dev"}); err != nil || got != devID {
		t.Fatalf("GetId with the linked Facebook login: %s %v, want %s", got, err, devID)
	}
	_, claims := verifyToken(t, e.s, aws.ToString(dev.Token))
	if amr := fmt.Sprint(claims["amr"]); !strings.Contains(amr, "graph.facebook.com:"+fbAppID+":10158000000000100") || !strings.Contains(amr, devProvider) {
		t.Fatalf("amr %s", amr)
	}

	// An Amazon identity made first; a developer user presenting the same
	// Amazon login joins it.
	amzn := map[string]string{"www.amazon.com": e.login("www.amazon.com", "amzn-dev", "amzn1.account.MERGEME")}
	first, err := e.getID(amzn)
	if err != nil {
		t.Fatal(err)
	}
	out, err := devToken(t, e.c, e.pool, "dev-2", func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) { in.Logins["www.amazon.com"] = "amzn-dev" })
	if err != nil || aws.ToString(out.IdentityId) != first {
		t.Fatalf("developer login on the Amazon identity: %v %v, want %s", aws.ToString(out.IdentityId), err, first)
	}
	// A Twitter identity and the developer identity, presented together in
	// GetId: they merge, the older survives.
	tw := e.login("api.twitter.com", "tw-merge", "424242")
	twID, err := e.getID(map[string]string{"api.twitter.com": tw})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.getID(map[string]string{"graph.facebook.com": "fb-dev", "api.twitter.com": tw})
	if err != nil || got != devID {
		t.Fatalf("merge: %s %v, want the older %s", got, err, devID)
	}
	d, _ := e.c.DescribeIdentity(ctx, &ci.DescribeIdentityInput{IdentityId: &devID})
	if len(d.Logins) != 3 {
		t.Fatalf("merged identity logins %v", d.Logins)
	}
	l, _ := e.c.ListIdentities(ctx, &ci.ListIdentitiesInput{IdentityPoolId: &e.pool, MaxResults: aws.Int32(60), HideDisabled: true})
	for _, x := range l.Identities {
		if aws.ToString(x.IdentityId) == twID {
			t.Fatal("the merged-away identity is still listed")
		}
	}

	// Role rules see the provider's claims: the Facebook user's sub.
	if err := setRoles(t, e.c, e.pool, map[string]string{"authenticated": authRole}, map[string]types.RoleMapping{
		"graph.facebook.com": {Type: "Rules", AmbiguousRoleResolution: "AuthenticatedRole", RulesConfiguration: &types.RulesConfigurationType{
			Rules: []types.MappingRule{rule("sub", "Equals", "10158000000000100", adminRole)}}},
	}); err != nil {
		t.Fatal(err)
	}
	creds, err := e.c.GetCredentialsForIdentity(ctx, &ci.GetCredentialsForIdentityInput{IdentityId: &devID, Logins: map[string]string{"graph.facebook.com": "fb-dev"}})
	if err != nil {
		t.Fatal(err)
	}
	who, err := stsFor(e.s, creds.Credentials).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || !strings.Contains(aws.ToString(who.Arn), ":assumed-role/admins/") {
		t.Fatalf("caller %v %v", aws.ToString(who.Arn), err)
	}
}
