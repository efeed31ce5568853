package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

func iamClient(s *server, keyID, secret string) *iam.Client {
	return iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, "")})
}

// TestIAMOpenIDConnectProviders registers a provider with the IAM API, as
// `aws iam create-open-id-connect-provider --endpoint-url …` does, and a
// pool trusts it.
func TestIAMOpenIDConnectProviders(t *testing.T) {
	e := newFedEnv(t)
	ctx := context.Background()
	issuer := newIDP(t, "/iam-registered")
	c := iamClient(e.s, "test", "test")
	out, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(issuer.Issuer()),
		ClientIDList: []string{"iam-client"}, ThumbprintList: []string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.OpenIDConnectProviderArn)
	if arn != "arn:aws:iam::000000000000:oidc-provider/"+issuer.Name() {
		t.Fatalf("arn %s", arn)
	}
	got, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn})
	if err != nil || aws.ToString(got.Url) != issuer.Name() || fmt.Sprint(got.ClientIDList) != "[iam-client]" || len(got.ThumbprintList) != 1 ||
		got.CreateDate == nil || time.Since(*got.CreateDate) > time.Minute {
		t.Fatalf("get %+v %v", got, err)
	}
	list, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil || len(list.OpenIDConnectProviderList) != 2 { // plus newFedEnv's
		t.Fatalf("list %+v %v", list, err)
	}
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return fmt.Sprint(err)
	}
	_, err = c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(issuer.Issuer()), ClientIDList: []string{"x"}})
	var exists *iamtypes.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err = c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("ftp://x")}); code(err) != "InvalidInput" {
		t.Fatalf("bad url: %v", err)
	}
	other := iamClient(e.s, otherKeyID, otherSecret)
	_, err = other.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn})
	var missing *iamtypes.NoSuchEntityException
	if !errors.As(err, &missing) {
		t.Fatalf("other account: %v", err)
	}
	if _, err := iamClient(e.s, "test", "wrong").ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{}); code(err) != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %v", err)
	}

	// A pool trusting it accepts its tokens.
	pool := aws.ToString(createPool(t, e.c, "iam", func(in *ci.CreateIdentityPoolInput) { in.OpenIdConnectProviderARNs = []string{arn} }).IdentityPoolId)
	if _, err := e.getID(t, pool, map[string]string{issuer.Name(): issuer.token(t, map[string]any{"sub": "u", "aud": "iam-client"})}); err != nil {
		t.Fatalf("GetId with the IAM-registered provider: %v", err)
	}
	if _, err := c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}); err != nil {
		t.Fatal(err)
	}
	_, err = e.getID(t, pool, map[string]string{issuer.Name(): issuer.token(t, map[string]any{"sub": "u2", "aud": "iam-client"})})
	apiErr(t, err, "NotAuthorizedException")
}
