package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/fedid/fedid/internal/samltest"
)

// TestSAMLLogins: a SAML provider registered with IAM's CreateSAMLProvider,
// a pool listing it in SamlProviderARNs, and signed SAMLResponses through
// GetId and GetCredentialsForIdentity, as an app would send them.
func TestSAMLLogins(t *testing.T) {
	e := newFedEnv(t)
	ctx := context.Background()
	idp, err := samltest.New("https://idp.example/saml", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out, err := iamClient(e.s, "test", "test").CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{
		Name: aws.String("corp"), SAMLMetadataDocument: aws.String(idp.Metadata())})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.SAMLProviderArn)
	if arn != "arn:aws:iam::000000000000:saml-provider/corp" {
		t.Fatalf("ARN %s", arn)
	}
	pool := aws.ToString(createPool(t, e.c, "saml", func(in *ci.CreateIdentityPoolInput) { in.SamlProviderARNs = []string{arn} }).IdentityPoolId)
	const (
		roleA = "arn:aws:iam::000000000000:role/saml-a"
		roleB = "arn:aws:iam::000000000000:role/saml-b"
	)
	if err := setRoles(t, e.c, pool, map[string]string{"authenticated": authRole}, nil); err != nil {
		t.Fatal(err)
	}
	assertion := func(nameID string, roles ...string) string {
		a := samltest.Assertion{NameID: nameID, Now: time.Now()}
		for _, r := range roles {
			a.Roles = append(a.Roles, samltest.RolePair(r, arn))
		}
		resp, err := idp.SignedResponse(a, true, true)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	login := func(resp string) map[string]string { return map[string]string{arn: resp} }

	// The same NameID twice (two assertions): one identity.
	id, err := e.getID(t, pool, login(assertion("alice", roleA, roleB)))
	if err != nil {
		t.Fatal(err)
	}
	if again, err := e.getID(t, pool, login(assertion("alice", roleA, roleB))); err != nil || again != id {
		t.Fatalf("second GetId: %s %v, want %s", again, err, id)
	}
	if bob, err := e.getID(t, pool, login(assertion("bob", roleA))); err != nil || bob == id {
		t.Fatalf("another NameID: %s %v", bob, err)
	}
	desc, err := e.c.DescribeIdentity(ctx, &ci.DescribeIdentityInput{IdentityId: &id})
	if err != nil || len(desc.Logins) != 1 || desc.Logins[0] != arn {
		t.Fatalf("DescribeIdentity: %+v %v", desc, err)
	}

	creds := func(resp, custom string) (*ci.GetCredentialsForIdentityOutput, error) {
		in := &ci.GetCredentialsForIdentityInput{IdentityId: &id, Logins: login(resp)}
		if custom != "" {
			in.CustomRoleArn = &custom
		}
		return e.c.GetCredentialsForIdentity(ctx, in)
	}
	caller := func(o *ci.GetCredentialsForIdentityOutput) string {
		who, err := stsFor(e.s, o.Credentials).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		return aws.ToString(who.Arn)
	}
	// Two roles: CustomRoleArn must name one of them.
	_, err = creds(assertion("alice", roleA, roleB), "")
	apiErr(t, err, "InvalidParameterException")
	o, err := creds(assertion("alice", roleA, roleB), roleB)
	if err != nil {
		t.Fatal(err)
	}
	if got := caller(o); got != "arn:aws:sts::000000000000:assumed-role/saml-b/CognitoIdentityCredentials" {
		t.Fatalf("caller %s", got)
	}
	_, err = creds(assertion("alice", roleA, roleB), authRole)
	apiErr(t, err, "NotAuthorizedException")
	// One role: that role.
	o, err = creds(assertion("alice", roleA), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := caller(o); !strings.Contains(got, ":assumed-role/saml-a/") {
		t.Fatalf("caller %s", got)
	}

	// A forged or foreign response is refused.
	other, err := samltest.New("https://idp.example/saml", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	forged, err := other.SignedResponse(samltest.Assertion{NameID: "alice", Now: time.Now()}, true, true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.getID(t, pool, login(forged))
	apiErr(t, err, "NotAuthorizedException")
	unsigned, err := idp.SignedResponse(samltest.Assertion{NameID: "alice", Now: time.Now()}, false, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.getID(t, pool, login(unsigned))
	apiErr(t, err, "NotAuthorizedException")
	expired, err := idp.SignedResponse(samltest.Assertion{NameID: "alice", Now: time.Now().Add(-time.Hour)}, true, true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.getID(t, pool, login(expired))
	apiErr(t, err, "NotAuthorizedException")

	// Deleted from IAM: its logins are refused.
	if _, err := iamClient(e.s, "test", "test").DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: &arn}); err != nil {
		t.Fatal(err)
	}
	_, err = e.getID(t, pool, login(assertion("alice", roleA)))
	apiErr(t, err, "NotAuthorizedException")
}
