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
)

func createPool(tb testing.TB, c *ci.Client, name string, mods ...func(*ci.CreateIdentityPoolInput)) *ci.CreateIdentityPoolOutput {
	tb.Helper()
	in := &ci.CreateIdentityPoolInput{
		IdentityPoolName:               aws.String(name),
		AllowUnauthenticatedIdentities: true,
		DeveloperProviderName:          aws.String("login.example"),
	}
	for _, m := range mods {
		m(in)
	}
	out, err := c.CreateIdentityPool(context.Background(), in)
	if err != nil {
		tb.Fatalf("CreateIdentityPool: %v", err)
	}
	return out
}

func TestPoolLifecycle(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	ctx := context.Background()

	created := createPool(t, c, "demo pool", func(in *ci.CreateIdentityPoolInput) {
		in.AllowClassicFlow = aws.Bool(true)
		in.SupportedLoginProviders = map[string]string{"accounts.google.com": "client-123.apps.googleusercontent.com"}
		in.OpenIdConnectProviderARNs = []string{"arn:aws:iam::000000000000:oidc-provider/issuer.example.com"}
		in.CognitoIdentityProviders = []types.CognitoIdentityProvider{{
			ProviderName: aws.String("cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E"),
			ClientId:     aws.String("abc123def456"), ServerSideTokenCheck: aws.Bool(true),
		}}
		in.SamlProviderARNs = []string{"arn:aws:iam::000000000000:saml-provider/corp"}
		in.IdentityPoolTags = map[string]string{"team": "blue"}
	})
	id := aws.ToString(created.IdentityPoolId)
	if !strings.HasPrefix(id, "us-east-1:") || len(id) != len("us-east-1:")+36 {
		t.Fatalf("pool id %q is not <region>:<uuid>", id)
	}
	if aws.ToString(created.IdentityPoolName) != "demo pool" || !created.AllowUnauthenticatedIdentities ||
		!aws.ToBool(created.AllowClassicFlow) || aws.ToString(created.DeveloperProviderName) != "login.example" ||
		created.IdentityPoolTags["team"] != "blue" || len(created.CognitoIdentityProviders) != 1 ||
		!aws.ToBool(created.CognitoIdentityProviders[0].ServerSideTokenCheck) {
		t.Fatalf("create echoed %+v", created)
	}

	d, err := c.DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: &id})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.IdentityPoolName) != "demo pool" || d.SupportedLoginProviders["accounts.google.com"] == "" ||
		len(d.OpenIdConnectProviderARNs) != 1 || len(d.SamlProviderARNs) != 1 || d.IdentityPoolTags["team"] != "blue" {
		t.Fatalf("describe = %+v", d)
	}

	// Update is a full replacement: omitted providers are cleared; the
	// developer provider name is kept when omitted; tags kept when absent.
	u, err := c.UpdateIdentityPool(ctx, &ci.UpdateIdentityPoolInput{
		IdentityPoolId: &id, IdentityPoolName: aws.String("renamed"), AllowUnauthenticatedIdentities: false,
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(u.IdentityPoolName) != "renamed" || u.AllowUnauthenticatedIdentities || u.AllowClassicFlow != nil ||
		len(u.SupportedLoginProviders) != 0 || len(u.CognitoIdentityProviders) != 0 ||
		aws.ToString(u.DeveloperProviderName) != "login.example" || u.IdentityPoolTags["team"] != "blue" {
		t.Fatalf("update = %+v", u)
	}
	_, err = c.UpdateIdentityPool(ctx, &ci.UpdateIdentityPoolInput{
		IdentityPoolId: &id, IdentityPoolName: aws.String("renamed"), DeveloperProviderName: aws.String("other.example"),
	})
	if msg := apiErr(t, err, "InvalidParameterException"); !strings.Contains(msg, "DeveloperProviderName") {
		t.Fatalf("message %q", msg)
	}

	if _, err := c.DeleteIdentityPool(ctx, &ci.DeleteIdentityPoolInput{IdentityPoolId: &id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: &id})
	if msg := apiErr(t, err, "ResourceNotFoundException"); msg != "IdentityPool '"+id+"' not found." {
		t.Fatalf("message %q", msg)
	}
	_, err = c.DeleteIdentityPool(ctx, &ci.DeleteIdentityPoolInput{IdentityPoolId: &id})
	apiErr(t, err, "ResourceNotFoundException")
}

func TestDeveloperProviderNameSetOnce(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	ctx := context.Background()
	p := createPool(t, c, "p", func(in *ci.CreateIdentityPoolInput) { in.DeveloperProviderName = nil })
	u, err := c.UpdateIdentityPool(ctx, &ci.UpdateIdentityPoolInput{IdentityPoolId: p.IdentityPoolId,
		IdentityPoolName: aws.String("p"), DeveloperProviderName: aws.String("first.example")})
	if err != nil || aws.ToString(u.DeveloperProviderName) != "first.example" {
		t.Fatalf("first set: %v %+v", err, u)
	}
	_, err = c.UpdateIdentityPool(ctx, &ci.UpdateIdentityPoolInput{IdentityPoolId: p.IdentityPoolId,
		IdentityPoolName: aws.String("p"), DeveloperProviderName: aws.String("second.example")})
	apiErr(t, err, "InvalidParameterException")
}

func TestListIdentityPoolsPagination(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	ctx := context.Background()
	want := map[string]bool{}
	for i := range 65 {
		out := createPool(t, c, fmt.Sprintf("pool %02d", i))
		want[aws.ToString(out.IdentityPoolId)] = true
	}
	// The other account's pools never show.
	createPool(t, s.client(otherKeyID, otherSecret, "us-east-1"), "foreign")

	pg := ci.NewListIdentityPoolsPaginator(c, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(10)})
	got := map[string]bool{}
	pages := 0
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.IdentityPools) > 10 {
			t.Fatalf("page of %d", len(out.IdentityPools))
		}
		for _, p := range out.IdentityPools {
			if got[aws.ToString(p.IdentityPoolId)] {
				t.Fatalf("pool %s listed twice", aws.ToString(p.IdentityPoolId))
			}
			got[aws.ToString(p.IdentityPoolId)] = true
		}
	}
	if pages != 7 || len(got) != 65 {
		t.Fatalf("pages=%d pools=%d, want 7 and 65", pages, len(got))
	}
	for id := range want {
		if !got[id] {
			t.Fatalf("pool %s missing", id)
		}
	}

	// Stable while pools are created and deleted between pages.
	first, err := c.ListIdentityPools(ctx, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil || first.NextToken == nil || len(first.IdentityPools) != 60 {
		t.Fatalf("first page: %v %d", err, len(first.IdentityPools))
	}
	_, err = c.DeleteIdentityPool(ctx, &ci.DeleteIdentityPoolInput{IdentityPoolId: first.IdentityPools[0].IdentityPoolId})
	if err != nil {
		t.Fatal(err)
	}
	createPool(t, c, "late")
	second, err := c.ListIdentityPools(ctx, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(60), NextToken: first.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.IdentityPools) != 6 || second.NextToken != nil {
		t.Fatalf("second page has %d pools (want the 5 left + the new one), token %v", len(second.IdentityPools), second.NextToken)
	}
	if aws.ToString(second.IdentityPools[5].IdentityPoolName) != "late" {
		t.Fatalf("new pool not last: %+v", second.IdentityPools[5])
	}

	// A token of another account is refused.
	_, err = s.client(otherKeyID, otherSecret, "us-east-1").ListIdentityPools(ctx,
		&ci.ListIdentityPoolsInput{MaxResults: aws.Int32(5), NextToken: first.NextToken})
	apiErr(t, err, "InvalidParameterException")
	_, err = c.ListIdentityPools(ctx, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(5), NextToken: aws.String("garbage")})
	apiErr(t, err, "InvalidParameterException")
}

func TestTags(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	ctx := context.Background()
	p := createPool(t, c, "tagged", func(in *ci.CreateIdentityPoolInput) { in.IdentityPoolTags = map[string]string{"a": "1"} })
	arn := "arn:aws:cognito-identity:us-east-1:000000000000:identitypool/" + aws.ToString(p.IdentityPoolId)

	if _, err := c.TagResource(ctx, &ci.TagResourceInput{ResourceArn: &arn, Tags: map[string]string{"b": "2", "a": "one"}}); err != nil {
		t.Fatal(err)
	}
	l, err := c.ListTagsForResource(ctx, &ci.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil || len(l.Tags) != 2 || l.Tags["a"] != "one" || l.Tags["b"] != "2" {
		t.Fatalf("tags %v %v", l, err)
	}
	if _, err := c.UntagResource(ctx, &ci.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"a", "absent"}}); err != nil {
		t.Fatal(err)
	}
	l, err = c.ListTagsForResource(ctx, &ci.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil || len(l.Tags) != 1 || l.Tags["b"] != "2" {
		t.Fatalf("tags after untag %v %v", l.Tags, err)
	}
	d, _ := c.DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: p.IdentityPoolId})
	if len(d.IdentityPoolTags) != 1 || d.IdentityPoolTags["b"] != "2" {
		t.Fatalf("describe tags %v", d.IdentityPoolTags)
	}

	// UpdateIdentityPool with tags replaces them.
	_, err = c.UpdateIdentityPool(ctx, &ci.UpdateIdentityPoolInput{IdentityPoolId: p.IdentityPoolId,
		IdentityPoolName: aws.String("tagged"), IdentityPoolTags: map[string]string{"c": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	l, _ = c.ListTagsForResource(ctx, &ci.ListTagsForResourceInput{ResourceArn: &arn})
	if len(l.Tags) != 1 || l.Tags["c"] != "3" {
		t.Fatalf("tags after update %v", l.Tags)
	}

	// 50 tags at most; aws: keys reserved; foreign or malformed ARNs.
	many := map[string]string{}
	for i := range 50 {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	_, err = c.TagResource(ctx, &ci.TagResourceInput{ResourceArn: &arn, Tags: many})
	apiErr(t, err, "InvalidParameterException")
	_, err = c.TagResource(ctx, &ci.TagResourceInput{ResourceArn: &arn, Tags: map[string]string{"aws:x": "y"}})
	apiErr(t, err, "InvalidParameterException")
	_, err = c.ListTagsForResource(ctx, &ci.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:s3:::some-bucket-name")})
	apiErr(t, err, "InvalidParameterException")
	missing := "arn:aws:cognito-identity:us-east-1:000000000000:identitypool/us-east-1:00000000-0000-0000-0000-000000000000"
	_, err = c.ListTagsForResource(ctx, &ci.ListTagsForResourceInput{ResourceArn: &missing})
	apiErr(t, err, "ResourceNotFoundException")
	_, err = s.client(otherKeyID, otherSecret, "us-east-1").ListTagsForResource(ctx, &ci.ListTagsForResourceInput{ResourceArn: &arn})
	apiErr(t, err, "ResourceNotFoundException")
}

func TestCrossAccountIsolation(t *testing.T) {
	s := start(t, startOpts{})
	ctx := context.Background()
	mine := createPool(t, s.testClient(), "mine")
	other := s.client(otherKeyID, otherSecret, "us-east-1")
	_, err := other.DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: mine.IdentityPoolId})
	if msg := apiErr(t, err, "ResourceNotFoundException"); !strings.Contains(msg, "not found") {
		t.Fatalf("message %q", msg)
	}
	_, err = other.DeleteIdentityPool(ctx, &ci.DeleteIdentityPoolInput{IdentityPoolId: mine.IdentityPoolId})
	apiErr(t, err, "ResourceNotFoundException")
	_, err = other.UpdateIdentityPool(ctx, &ci.UpdateIdentityPoolInput{IdentityPoolId: mine.IdentityPoolId, IdentityPoolName: aws.String("x")})
	apiErr(t, err, "ResourceNotFoundException")
	l, err := other.ListIdentityPools(ctx, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil || len(l.IdentityPools) != 0 {
		t.Fatalf("other account sees %v (%v)", l.IdentityPools, err)
	}
	// Another region of the same account does not see it either.
	_, err = s.client("test", "test", "eu-west-1").DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: mine.IdentityPoolId})
	apiErr(t, err, "ResourceNotFoundException")
	eu := createPool(t, s.client("test", "test", "eu-west-1"), "eu")
	if !strings.HasPrefix(aws.ToString(eu.IdentityPoolId), "eu-west-1:") {
		t.Fatalf("pool created in eu-west-1 has id %s", aws.ToString(eu.IdentityPoolId))
	}
	// Still there for its owner.
	if _, err := s.testClient().DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: mine.IdentityPoolId}); err != nil {
		t.Fatal(err)
	}
}

func TestRestartPersistence(t *testing.T) {
	s := start(t, startOpts{})
	p := createPool(t, s.testClient(), "durable")
	s.stop()
	s2 := start(t, startOpts{db: s.DB})
	d, err := s2.testClient().DescribeIdentityPool(context.Background(), &ci.DescribeIdentityPoolInput{IdentityPoolId: p.IdentityPoolId})
	if err != nil || aws.ToString(d.IdentityPoolName) != "durable" {
		t.Fatalf("after restart: %v %+v", err, d)
	}
}

func TestAuthentication(t *testing.T) {
	s := start(t, startOpts{})
	ctx := context.Background()
	body := `{"MaxResults":5}`

	_, err := s.client("test", "wrong", "us-east-1").ListIdentityPools(ctx, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(5)})
	apiErr(t, err, "InvalidSignatureException")
	_, err = s.client("AKIANOSUCHKEY0000000", "x", "us-east-1").ListIdentityPools(ctx, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(5)})
	if msg := apiErr(t, err, "UnrecognizedClientException"); msg != "The security token included in the request is invalid." {
		t.Fatalf("message %q", msg)
	}
	r := s.raw(t, "ListIdentityPools", body, "", "", time.Time{})
	if r.Status != 400 || r.Type != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned: %d %s %s", r.Status, r.Type, r.Message)
	}
	r = s.raw(t, "ListIdentityPools", body, "test", "test", time.Now().Add(-20*time.Minute))
	if r.Status != 400 || r.Type != "InvalidSignatureException" || !strings.Contains(r.Message, "Signature expired") {
		t.Fatalf("skewed clock: %d %s %s", r.Status, r.Type, r.Message)
	}
	r = s.raw(t, "ListIdentityPools", body, "test", "test", time.Now().Add(20*time.Minute))
	if r.Status != 400 || r.Type != "InvalidSignatureException" {
		t.Fatalf("future clock: %d %s %s", r.Status, r.Type, r.Message)
	}
	r = s.raw(t, "ListIdentityPools", body, "test", "test", time.Now().Add(-10*time.Minute))
	if r.Status != 200 {
		t.Fatalf("10 min skew should pass: %d %s %s", r.Status, r.Type, r.Message)
	}
	// Unsigned operations need no signature.
	r = s.raw(t, "GetOpenIdToken", `{"IdentityId":"us-east-1:00000000-0000-0000-0000-000000000000"}`, "", "", time.Time{})
	if r.Type != "ResourceNotFoundException" {
		t.Fatalf("unsigned GetOpenIdToken: %d %s %s", r.Status, r.Type, r.Message)
	}
}

// TestPoolQuota: 1,000 pools per account and region, then
// LimitExceededException; other accounts and regions are unaffected.
func TestPoolQuota(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	for i := range 1000 {
		r := s.signed(t, "CreateIdentityPool", fmt.Sprintf(`{"IdentityPoolName":"q%d","AllowUnauthenticatedIdentities":false}`, i))
		if r.Status != 200 {
			t.Fatalf("pool %d: %d %s %s", i, r.Status, r.Type, r.Message)
		}
	}
	_, err := c.CreateIdentityPool(context.Background(), &ci.CreateIdentityPoolInput{IdentityPoolName: aws.String("one too many")})
	if msg := apiErr(t, err, "LimitExceededException"); !strings.Contains(msg, "1000") {
		t.Fatalf("message %q", msg)
	}
	createPool(t, s.client(otherKeyID, otherSecret, "us-east-1"), "other account")
	createPool(t, s.client("test", "test", "eu-west-1"), "other region")
}
