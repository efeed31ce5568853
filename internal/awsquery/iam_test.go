package awsquery

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/fedid/fedid"
)

func providerARN(acct, name string) string { return "arn:aws:iam::" + acct + ":oidc-provider/" + name }

func createForm(u string, clientIDs, thumbs []string) string {
	kv := []string{"Action", "CreateOpenIDConnectProvider", "Version", "2010-05-08", "Url", u}
	for i, c := range clientIDs {
		kv = append(kv, "ClientIDList.member."+strconv.Itoa(i+1), c)
	}
	for i, th := range thumbs {
		kv = append(kv, "ThumbprintList.member."+strconv.Itoa(i+1), th)
	}
	return form(kv...)
}

func n(k int, f func(int) string) []string {
	out := make([]string, k)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func TestCreateProviderInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		code       string
	}{
		{"no Url", createForm("", []string{"app"}, nil), "InvalidInput"},
		{"Url not http(s)", createForm("ftp://idp.example.com", nil, nil), "InvalidInput"},
		{"Url with query", createForm("https://idp.example.com/?a=b", nil, nil), "InvalidInput"},
		{"Url without host", createForm("https:///path", nil, nil), "InvalidInput"},
		{"client ID with a space", createForm("https://idp.example.com", []string{"my app"}, nil), "InvalidInput"},
		{"client ID too long", createForm("https://idp.example.com", []string{strings.Repeat("a", 256)}, nil), "InvalidInput"},
		{"thumbprint too short", createForm("https://idp.example.com", nil, []string{thumb[:39]}), "InvalidInput"},
		{"thumbprint not hex", createForm("https://idp.example.com", nil, []string{strings.Repeat("g", 40)}), "InvalidInput"},
		{"six thumbprints", createForm("https://idp.example.com", nil, n(6, func(int) string { return thumb })), "LimitExceeded"},
		{"101 client IDs", createForm("https://idp.example.com", n(101, strconv.Itoa), nil), "LimitExceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, nil, &stubVerifier{caller: root})
			res := post(t, h, tc.body)
			if res.status != http.StatusBadRequest || !strings.Contains(res.body, "<Code>"+tc.code+"</Code>") ||
				!strings.HasPrefix(res.body, xmlStart+`<ErrorResponse xmlns="`+iamNS+`"><Error><Type>Sender</Type>`) {
				t.Errorf("status %d body %s, want 400 %s", res.status, res.body, tc.code)
			}
			if ps, err := h.Providers.ListOIDCProviders(context.Background(), account); err != nil || len(ps) != 0 {
				t.Errorf("providers stored after a refusal: %v %v", ps, err)
			}
		})
	}
}

func TestCreateProviderLimits(t *testing.T) {
	// The limits themselves are accepted.
	h := newHandler(t, nil, &stubVerifier{caller: root})
	res := post(t, h, createForm("https://idp.example.com", n(100, strconv.Itoa), n(5, func(int) string { return thumb })))
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
}

func TestSessionRefusedOnIAM(t *testing.T) {
	for _, action := range []string{"CreateOpenIDConnectProvider", "GetOpenIDConnectProvider", "ListOpenIDConnectProviders", "DeleteOpenIDConnectProvider"} {
		t.Run(action, func(t *testing.T) {
			h := newHandler(t, nil, &stubVerifier{caller: session})
			res := post(t, h, form("Action", action, "Url", "https://idp.example.com",
				"OpenIDConnectProviderArn", providerARN(account, "idp.example.com")))
			want := errorXML(iamNS, "Sender", "AccessDenied", "User: "+roleARN+" is not authorized to perform: iam:"+action, res.requestID)
			if res.status != http.StatusForbidden || res.body != want {
				t.Errorf("status %d body\n%s\nwant 403\n%s", res.status, res.body, want)
			}
			if ps, _ := h.Providers.ListOIDCProviders(context.Background(), account); len(ps) != 0 {
				t.Errorf("a session created a provider")
			}
		})
	}
}

func TestProviderLifecycle(t *testing.T) {
	ctx := context.Background()
	v := &stubVerifier{caller: root}
	h := newHandler(t, nil, v)
	arnB := providerARN(account, "b.example.com/tenant")
	arnA := providerARN(account, "a.example.com")

	// Create, in an order that is not the ARN order.
	for _, tc := range []struct {
		url, arn string
	}{
		{"https://b.example.com/tenant/", arnB},
		{"https://a.example.com", arnA},
	} {
		res := post(t, h, createForm(tc.url, []string{"app-1", "app-2"}, []string{thumb}))
		want := xmlStart + `<CreateOpenIDConnectProviderResponse xmlns="` + iamNS + `"><CreateOpenIDConnectProviderResult>` +
			`<OpenIDConnectProviderArn>` + tc.arn + `</OpenIDConnectProviderArn></CreateOpenIDConnectProviderResult></CreateOpenIDConnectProviderResponse>`
		if res.status != http.StatusOK || res.body != want {
			t.Fatalf("create %s: status %d body\n%s\nwant\n%s", tc.url, res.status, res.body, want)
		}
	}
	// Another account's provider, stored directly.
	otherP, err := fedid.NewOIDCProvider(other, "https://c.example.com", nil, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Providers.PutOIDCProvider(ctx, otherP); err != nil {
		t.Fatal(err)
	}

	t.Run("duplicate", func(t *testing.T) {
		// The same issuer without the trailing slash is the same provider.
		res := post(t, h, createForm("https://b.example.com/tenant", nil, nil))
		want := errorXML(iamNS, "Sender", "EntityAlreadyExists", "Provider with url https://b.example.com/tenant already exists.", res.requestID)
		if res.status != http.StatusConflict || res.body != want {
			t.Errorf("status %d body\n%s\nwant 409\n%s", res.status, res.body, want)
		}
	})

	t.Run("get", func(t *testing.T) {
		res := post(t, h, form("Action", "GetOpenIDConnectProvider", "OpenIDConnectProviderArn", arnB))
		want := xmlStart + `<GetOpenIDConnectProviderResponse xmlns="` + iamNS + `"><GetOpenIDConnectProviderResult>` +
			`<ThumbprintList><member>` + thumb + `</member></ThumbprintList>` +
			`<CreateDate>2026-11-24T12:00:00.000Z</CreateDate>` +
			`<ClientIDList><member>app-1</member><member>app-2</member></ClientIDList>` +
			`<Url>b.example.com/tenant</Url></GetOpenIDConnectProviderResult></GetOpenIDConnectProviderResponse>`
		if res.status != http.StatusOK || res.body != want {
			t.Errorf("status %d body\n%s\nwant\n%s", res.status, res.body, want)
		}
	})

	t.Run("list is sorted and the caller's own", func(t *testing.T) {
		res := post(t, h, form("Action", "ListOpenIDConnectProviders"))
		want := xmlStart + `<ListOpenIDConnectProvidersResponse xmlns="` + iamNS + `"><ListOpenIDConnectProvidersResult>` +
			`<OpenIDConnectProviderList><member><Arn>` + arnA + `</Arn></member><member><Arn>` + arnB + `</Arn></member></OpenIDConnectProviderList>` +
			`</ListOpenIDConnectProvidersResult></ListOpenIDConnectProvidersResponse>`
		if res.status != http.StatusOK || res.body != want {
			t.Errorf("status %d body\n%s\nwant\n%s", res.status, res.body, want)
		}
	})

	for _, tc := range []struct {
		name, action, arn string
		status            int
		code, msg         string
	}{
		{"get another account's", "GetOpenIDConnectProvider", otherP.ARN, 404, "NoSuchEntity", "OpenIDConnect Provider not found for arn " + otherP.ARN},
		{"delete another account's", "DeleteOpenIDConnectProvider", otherP.ARN, 404, "NoSuchEntity", "OpenIDConnect Provider not found for arn " + otherP.ARN},
		{"get missing", "GetOpenIDConnectProvider", providerARN(account, "missing.example.com"), 404, "NoSuchEntity", "OpenIDConnect Provider not found for arn " + providerARN(account, "missing.example.com")},
		{"get not a provider ARN", "GetOpenIDConnectProvider", "arn:aws:iam::" + account + ":role/x", 400, "InvalidInput", "ARN arn:aws:iam::" + account + ":role/x is not an OpenID Connect provider ARN."},
		{"delete no ARN", "DeleteOpenIDConnectProvider", "", 400, "InvalidInput", "ARN  is not an OpenID Connect provider ARN."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := post(t, h, form("Action", tc.action, "OpenIDConnectProviderArn", tc.arn))
			want := errorXML(iamNS, "Sender", tc.code, tc.msg, res.requestID)
			if res.status != tc.status || res.body != want {
				t.Errorf("status %d body\n%s\nwant %d\n%s", res.status, res.body, tc.status, want)
			}
		})
	}
	if _, err := h.Providers.GetOIDCProvider(ctx, otherP.ARN); err != nil {
		t.Errorf("another account's provider was deleted: %v", err)
	}

	t.Run("delete", func(t *testing.T) {
		res := post(t, h, form("Action", "DeleteOpenIDConnectProvider", "OpenIDConnectProviderArn", arnA))
		want := xmlStart + `<DeleteOpenIDConnectProviderResponse xmlns="` + iamNS + `"></DeleteOpenIDConnectProviderResponse>`
		if res.status != http.StatusOK || res.body != want {
			t.Fatalf("status %d body\n%s\nwant\n%s", res.status, res.body, want)
		}
		for _, action := range []string{"GetOpenIDConnectProvider", "DeleteOpenIDConnectProvider"} {
			if res := post(t, h, form("Action", action, "OpenIDConnectProviderArn", arnA)); res.status != http.StatusNotFound {
				t.Errorf("%s after delete: status %d, want 404", action, res.status)
			}
		}
		if _, err := h.Providers.GetOIDCProvider(ctx, arnB); err != nil {
			t.Errorf("the other provider went too: %v", err)
		}
	})
}

// TestSDKClients drives the handler with the real AWS SDK clients (signed
// requests the stub accepts), so that the responses are the shapes the
// SDK's deserializers read.
func TestSDKClients(t *testing.T) {
	ctx := context.Background()
	h := newHandler(t, &stubVerifier{caller: root}, &stubVerifier{caller: root})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	creds := credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", "")
	ic := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds, RetryMaxAttempts: 1})
	sc := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds, RetryMaxAttempts: 1})

	who, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Arn) != rootARN || aws.ToString(who.Account) != account || aws.ToString(who.UserId) != account {
		t.Errorf("GetCallerIdentity: %q %q %q", aws.ToString(who.Arn), aws.ToString(who.Account), aws.ToString(who.UserId))
	}

	t.Run("list empty", func(t *testing.T) {
		out, err := ic.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
		if err != nil {
			t.Fatalf("ListOpenIDConnectProviders on an account with none: %v", err)
		}
		if len(out.OpenIDConnectProviderList) != 0 {
			t.Errorf("list %v, want empty", out.OpenIDConnectProviderList)
		}
	})

	created, err := ic.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://idp.example.com"), ClientIDList: []string{"app"}, ThumbprintList: []string{thumb}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.OpenIDConnectProviderArn)
	if arn != providerARN(account, "idp.example.com") {
		t.Errorf("created ARN %q", arn)
	}
	got, err := ic.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Url) != "idp.example.com" || len(got.ClientIDList) != 1 || got.ClientIDList[0] != "app" ||
		len(got.ThumbprintList) != 1 || got.ThumbprintList[0] != thumb || got.CreateDate == nil || !got.CreateDate.Equal(t0) {
		t.Errorf("GetOpenIDConnectProvider: %+v", got)
	}
	list, err := ic.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.OpenIDConnectProviderList) != 1 || aws.ToString(list.OpenIDConnectProviderList[0].Arn) != arn {
		t.Errorf("list: %+v", list.OpenIDConnectProviderList)
	}
	_, err = ic.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://idp.example.com")})
	var exists *types.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Errorf("duplicate create: %v, want EntityAlreadyExists", err)
	}
	if _, err := ic.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = ic.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	var missing *types.NoSuchEntityException
	if !errors.As(err, &missing) {
		t.Errorf("get after delete: %v, want NoSuchEntity", err)
	}
}
