package awsquery

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/fedid/fedid/internal/samltest"
)

// TestSAMLProvidersSDK drives the SAML provider calls with the SDK's IAM
// client, so that the responses are the shapes its deserializers read and
// the errors the types it knows.
func TestSAMLProvidersSDK(t *testing.T) {
	ctx := context.Background()
	h := newHandler(t, &stubVerifier{caller: root}, &stubVerifier{caller: root})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	creds := credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", "")
	ic := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds, RetryMaxAttempts: 1})
	idp, err := samltest.New("https://idp.example/metadata", t0)
	if err != nil {
		t.Fatal(err)
	}
	md := idp.Metadata()

	if out, err := ic.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{}); err != nil || len(out.SAMLProviderList) != 0 {
		t.Fatalf("list empty: %+v %v", out, err)
	}
	created, err := ic.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(md)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.SAMLProviderArn)
	if arn != "arn:aws:iam::"+account+":saml-provider/corp" {
		t.Fatalf("ARN %q", arn)
	}
	got, err := ic.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.SAMLMetadataDocument) != md || got.CreateDate == nil || !got.CreateDate.Equal(t0) ||
		got.ValidUntil != nil || aws.ToString(got.SAMLProviderUUID) == "" || got.AssertionEncryptionMode != types.AssertionEncryptionModeTypeAllowed {
		t.Fatalf("get: %+v", got)
	}
	list, err := ic.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	if err != nil || len(list.SAMLProviderList) != 1 || aws.ToString(list.SAMLProviderList[0].Arn) != arn ||
		!list.SAMLProviderList[0].CreateDate.Equal(t0) {
		t.Fatalf("list: %+v %v", list, err)
	}

	// Update: a new document (here with a validUntil), the creation date kept.
	until := t0.Add(48 * time.Hour)
	md2 := strings.Replace(md, `entityID=`, `validUntil="`+until.Format(time.RFC3339)+`" entityID=`, 1)
	if up, err := ic.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), SAMLMetadataDocument: aws.String(md2)}); err != nil || aws.ToString(up.SAMLProviderArn) != arn {
		t.Fatalf("update: %+v %v", up, err)
	}
	got, err = ic.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
	if err != nil || aws.ToString(got.SAMLMetadataDocument) != md2 || !got.CreateDate.Equal(t0) || got.ValidUntil == nil || !got.ValidUntil.Equal(until) {
		t.Fatalf("after update: %+v %v", got, err)
	}

	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return "no API error: " + errStr(err)
	}
	_, err = ic.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(md)})
	var exists *types.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Errorf("duplicate: %v", err)
	}
	for _, tc := range []struct {
		name, pname, doc, want string
	}{
		{"name with a space", "my corp", md, "ValidationError"},
		{"name too long", strings.Repeat("a", 129), md, "ValidationError"},
		{"document too short", "short", "<x/>", "ValidationError"},
		{"not XML", "junk", strings.Repeat("x", 1000), "InvalidInput"},
		{"no certificate", "nocert", strings.Replace(md, "<md:KeyDescriptor", "<md:Other", 1) + strings.Repeat(" ", 1000), "InvalidInput"},
		{"not an EntityDescriptor", "other", "<a>" + strings.Repeat("x", 1000) + "</a>", "InvalidInput"},
	} {
		_, err := ic.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String(tc.pname), SAMLMetadataDocument: aws.String(tc.doc)})
		if code(err) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	_, err = ic.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("enc"), SAMLMetadataDocument: aws.String(md),
		AssertionEncryptionMode: types.AssertionEncryptionModeTypeRequired})
	if code(err) != "InvalidInput" {
		t.Errorf("encryption required: %v", err)
	}
	var missing *types.NoSuchEntityException
	for _, a := range []string{"arn:aws:iam::" + account + ":saml-provider/nope", "arn:aws:iam::" + other + ":saml-provider/corp"} {
		if _, err := ic.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(a)}); !errors.As(err, &missing) {
			t.Errorf("get %s: %v, want NoSuchEntity", a, err)
		}
	}
	if _, err := ic.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String("arn:aws:iam::" + account + ":role/x")}); code(err) != "InvalidInput" {
		t.Errorf("role ARN: %v", err)
	}
	if _, err := ic.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: aws.String(arn)}); !errors.As(err, &missing) {
		t.Errorf("second delete: %v", err)
	}
}

func errStr(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}
