package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/fedid/fedid"
)

// The documented example credentials of the SigV4 test suite.
const (
	exampleKeyID  = "AKIDEXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

var exampleTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

func lookup(keys map[string][2]string) SecretLookup {
	return func(_ context.Context, id string) (*fedid.Credential, error) {
		k, ok := keys[id]
		if !ok {
			return nil, fmt.Errorf("test lookup %s: %w", id, fedid.ErrNotFound)
		}
		return &fedid.Credential{Secret: k[0], Account: k[1]}, nil
	}
}

var exampleKeys = map[string][2]string{exampleKeyID: {exampleSecret, "123456789012"}}

// TestDocumentedGetVanilla reproduces the get-vanilla example of AWS's
// SigV4 test suite, step by step.
func TestDocumentedGetVanilla(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "http://example.amazonaws.com/", nil)
	r.Host = "example.amazonaws.com"
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	sum := sha256.Sum256(nil)
	cr := CanonicalRequest(r, []string{"host", "x-amz-date"}, hex.EncodeToString(sum[:]))
	wantCR := "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if cr != wantCR {
		t.Fatalf("canonical request\n%s\nwant\n%s", cr, wantCR)
	}
	sts := StringToSign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", cr)
	if want := "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"; sts != want {
		t.Fatalf("string to sign\n%s", sts)
	}
	sig := hex.EncodeToString(hmacSHA256(DeriveKey(exampleSecret, "20150830", "us-east-1", "service"), []byte(sts)))
	if sig != "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" {
		t.Fatalf("signature %s", sig)
	}
	// And the verifier accepts that request as signed.
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature="+sig)
	v := NewVerifier("service", lookup(exampleKeys), fixedClock(exampleTime))
	c, err := v.Verify(context.Background(), r, nil)
	if err != nil || c.Account != "123456789012" || c.Region != "us-east-1" || c.AccessKeyID != exampleKeyID {
		t.Fatalf("verify: %v %+v", err, c)
	}
}

// A cognito-identity POST signed by aws-sdk-go-v2's signer at the example
// time; the signature is pinned so a change in either side shows.
const kaBody = `{"IdentityPoolId":"us-east-1:1699ebc0-7900-4099-b910-2df94f52a030","Logins":{"login.example":"user1"}}`

func newAPIRequest(body, region string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9600/", strings.NewReader(body))
	r.Host = "127.0.0.1:9600"
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity")
	return r
}

func sdkSign(t testing.TB, r *http.Request, body, keyID, secret, region, service string, at time.Time) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
		r, hex.EncodeToString(sum[:]), service, region, at)
	if err != nil {
		t.Fatal(err)
	}
}

func TestKnownAnswerCognitoPost(t *testing.T) {
	r := newAPIRequest(kaBody, "us-east-1")
	sdkSign(t, r, kaBody, exampleKeyID, exampleSecret, "us-east-1", "cognito-identity", exampleTime)
	const want = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cognito-identity/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-target, Signature="
	got := r.Header.Get("Authorization")
	if !strings.HasPrefix(got, want) {
		t.Fatalf("authorization %s", got)
	}
	a, err := ParseAuthorization(got)
	if err != nil {
		t.Fatal(err)
	}
	// Independently recomputed with this package's steps.
	sum := sha256.Sum256([]byte(kaBody))
	sts := StringToSign("20150830T123600Z", a.Scope(), CanonicalRequest(r, a.SignedHeaders, hex.EncodeToString(sum[:])))
	mine := hex.EncodeToString(hmacSHA256(DeriveKey(exampleSecret, "20150830", "us-east-1", "cognito-identity"), []byte(sts)))
	if mine != a.Signature {
		t.Fatalf("signature %s, SDK %s", mine, a.Signature)
	}
	if a.Signature != pinnedKASignature {
		t.Fatalf("pinned signature changed: %s", a.Signature)
	}
}

const pinnedKASignature = "55b6c0fe26a3a8c780b86bb09e875de4706387acd852d7d8e99bf9a4c23a7b95"

// TestDifferential signs with the real SDK signer, then tampers with each
// signed part in turn.
func TestDifferential(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	keys := map[string][2]string{"AKIAFEDIDTEST0000001": {"s3cr3t/with+chars=", "000000000000"}}
	v := NewVerifier("cognito-identity", lookup(keys), fixedClock(now))
	ctx := context.Background()
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-2"} {
		for _, body := range []string{"", "{}", kaBody, `{"Unicode":"żółw ✓"}`} {
			base := func() *http.Request {
				r := newAPIRequest(body, region)
				r.Header.Set("User-Agent", "aws-sdk-go-v2/1.0")
				r.Header.Set("X-Amz-Security-Token", "session-token")
				sdkSign(t, r, body, "AKIAFEDIDTEST0000001", "s3cr3t/with+chars=", region, "cognito-identity", now)
				return r
			}
			r := base()
			c, err := v.Verify(ctx, r, []byte(body))
			if err != nil || c.Region != region || c.Account != "000000000000" {
				t.Fatalf("%s %q: %v %+v", region, body, err, c)
			}
			// Unsigned headers may change.
			r.Header.Set("User-Agent", "other")
			if _, err := v.Verify(ctx, r, []byte(body)); err != nil {
				t.Fatalf("unsigned header changed: %v", err)
			}
			tamper := []struct {
				name string
				mod  func(r *http.Request) []byte
				kind fedid.Kind
			}{
				{"body", func(r *http.Request) []byte { return []byte(body + " ") }, fedid.KindInvalidSignature},
				{"target", func(r *http.Request) []byte {
					r.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.DeleteIdentityPool")
					return []byte(body)
				}, fedid.KindInvalidSignature},
				{"content-type", func(r *http.Request) []byte { r.Header.Set("Content-Type", "application/json"); return []byte(body) }, fedid.KindInvalidSignature},
				{"security token", func(r *http.Request) []byte { r.Header.Set("X-Amz-Security-Token", "x"); return []byte(body) }, fedid.KindInvalidSignature},
				{"host", func(r *http.Request) []byte { r.Host = "evil.example"; return []byte(body) }, fedid.KindInvalidSignature},
				{"method", func(r *http.Request) []byte { r.Method = http.MethodPut; return []byte(body) }, fedid.KindInvalidSignature},
				{"path", func(r *http.Request) []byte { r.URL.Path = "/other"; return []byte(body) }, fedid.KindInvalidSignature},
				{"query", func(r *http.Request) []byte { r.URL.RawQuery = "a=b"; return []byte(body) }, fedid.KindInvalidSignature},
				{"date", func(r *http.Request) []byte {
					r.Header.Set("X-Amz-Date", now.Add(time.Second).Format(amzDateFormat))
					return []byte(body)
				}, fedid.KindInvalidSignature},
				{"signature", func(r *http.Request) []byte {
					h := r.Header.Get("Authorization")
					last := h[len(h)-1]
					repl := byte('0')
					if last == '0' {
						repl = '1'
					}
					r.Header.Set("Authorization", h[:len(h)-1]+string(repl))
					return []byte(body)
				}, fedid.KindInvalidSignature},
				{"region in scope", func(r *http.Request) []byte {
					r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/"+region+"/", "/us-west-2/", 1))
					return []byte(body)
				}, fedid.KindInvalidSignature},
				{"service in scope", func(r *http.Request) []byte {
					r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/cognito-identity/", "/sts/", 1))
					return []byte(body)
				}, fedid.KindInvalidSignature},
				{"access key", func(r *http.Request) []byte {
					r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AKIAFEDIDTEST0000001", "AKIAFEDIDTEST0000002", 1))
					return []byte(body)
				}, fedid.KindUnrecognizedClient},
				{"signed headers", func(r *http.Request) []byte {
					r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-amz-target", "", 1))
					return []byte(body)
				}, fedid.KindIncompleteSignature},
				{"an unsigned X-Amz-* header added", func(r *http.Request) []byte {
					r.Header.Set("X-Amz-Meta-Extra", "1")
					return []byte(body)
				}, fedid.KindIncompleteSignature},
				{"X-Amz-Date left out of the signed headers", func(r *http.Request) []byte {
					r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-amz-date", "", 1))
					return []byte(body)
				}, fedid.KindIncompleteSignature},
				{"no authorization", func(r *http.Request) []byte { r.Header.Del("Authorization"); return []byte(body) }, fedid.KindMissingAuthenticationToken},
			}
			for _, tc := range tamper {
				r := base()
				b := tc.mod(r)
				_, err := v.Verify(ctx, r, b)
				if fedid.ErrorKind(err) != tc.kind {
					t.Errorf("%s %q: tampered %s: got %v, want %v", region, body, tc.name, err, tc.kind)
				}
			}
			// The wrong secret.
			r = newAPIRequest(body, region)
			sdkSign(t, r, body, "AKIAFEDIDTEST0000001", "not-the-secret", region, "cognito-identity", now)
			if _, err := v.Verify(ctx, r, []byte(body)); fedid.ErrorKind(err) != fedid.KindInvalidSignature {
				t.Errorf("wrong secret: %v", err)
			}
		}
	}
}

func TestClockSkew(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	v := NewVerifier("cognito-identity", lookup(exampleKeys), fixedClock(now))
	for _, tc := range []struct {
		at      time.Time
		ok      bool
		message string
	}{
		{now.Add(-MaxSkew), true, ""},
		{now.Add(MaxSkew), true, ""},
		{now.Add(-MaxSkew - time.Second), false, "Signature expired: 20261124T114459Z is now earlier than 20261124T114500Z (20261124T120000Z - 15 min.)"},
		{now.Add(MaxSkew + time.Second), false, "Signature not yet current: 20261124T121501Z is still later than 20261124T121500Z (20261124T120000Z + 15 min.)"},
	} {
		r := newAPIRequest("{}", "us-east-1")
		sdkSign(t, r, "{}", exampleKeyID, exampleSecret, "us-east-1", "cognito-identity", tc.at)
		_, err := v.Verify(context.Background(), r, []byte("{}"))
		if tc.ok != (err == nil) {
			t.Fatalf("at %v: %v", tc.at, err)
		}
		if !tc.ok && (fedid.ErrorKind(err) != fedid.KindInvalidSignature || fedid.ErrorMessage(err) != tc.message) {
			t.Fatalf("at %v: %v", tc.at, err)
		}
	}
}

func TestMalformedAuthorization(t *testing.T) {
	v := NewVerifier("cognito-identity", lookup(exampleKeys), fixedClock(exampleTime))
	sig := strings.Repeat("a", 64)
	for _, tc := range []struct {
		auth string
		kind fedid.Kind
	}{
		{"AWS4-HMAC-SHA1 Credential=a/b/c/d/e, SignedHeaders=host, Signature=" + sig, fedid.KindIncompleteSignature},
		{"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + sig, fedid.KindIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cognito-identity/aws4_request, Signature=" + sig, fedid.KindIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cognito-identity/aws4_request, SignedHeaders=host", fedid.KindIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cognito-identity, SignedHeaders=host, Signature=" + sig, fedid.KindIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cognito-identity/aws4_request/x, SignedHeaders=host, Signature=" + sig, fedid.KindIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/cognito-identity/aws4_request, SignedHeaders=host, Signature=" + sig, fedid.KindIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cognito-identity/aws4_request, SignedHeaders=x-amz-date, Signature=" + sig, fedid.KindIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cognito-identity/aws4_request, SignedHeaders=Host, Signature=" + sig, fedid.KindIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cognito-identity/aws4_request, SignedHeaders=host, Signature=xyz", fedid.KindIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cognito-identity/aws4_requestX, SignedHeaders=host, Signature=" + sig, fedid.KindIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + sig, fedid.KindInvalidSignature},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/cognito-identity/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + sig, fedid.KindInvalidSignature},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cognito-identity/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + sig, fedid.KindInvalidSignature},
	} {
		r := newAPIRequest("{}", "us-east-1")
		r.Header.Set("X-Amz-Date", "20150830T123600Z")
		r.Header.Set("Authorization", tc.auth)
		_, err := v.Verify(context.Background(), r, []byte("{}"))
		if fedid.ErrorKind(err) != tc.kind {
			t.Errorf("%s: got %v, want %v", tc.auth, err, tc.kind)
		}
	}
	// No date at all.
	r := newAPIRequest("{}", "us-east-1")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cognito-identity/aws4_request, SignedHeaders=host, Signature="+sig)
	if _, err := v.Verify(context.Background(), r, nil); fedid.ErrorKind(err) != fedid.KindIncompleteSignature {
		t.Errorf("no date: %v", err)
	}
	// Presigned query string.
	r = httptest.NewRequest(http.MethodPost, "http://h/?X-Amz-Algorithm=AWS4-HMAC-SHA256", nil)
	if _, err := v.Verify(context.Background(), r, nil); fedid.ErrorKind(err) != fedid.KindIncompleteSignature {
		t.Errorf("presigned: %v", err)
	}
}

// TestNoSecretsInErrors: no error message carries the secret, the expected
// signature or the signing key.
func TestNoSecretsInErrors(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	const secret = "SuperSecretValue1234567890"
	v := NewVerifier("cognito-identity", lookup(map[string][2]string{"AKIAX": {secret, "000000000000"}}), fixedClock(now))
	r := newAPIRequest("{}", "us-east-1")
	sdkSign(t, r, "{}", "AKIAX", "wrong", "us-east-1", "cognito-identity", now)
	_, err := v.Verify(context.Background(), r, []byte("{}"))
	if err == nil {
		t.Fatal("accepted a wrong secret")
	}
	// What the right signature would have been.
	r2 := newAPIRequest("{}", "us-east-1")
	sdkSign(t, r2, "{}", "AKIAX", secret, "us-east-1", "cognito-identity", now)
	a, _ := ParseAuthorization(r2.Header.Get("Authorization"))
	for _, leak := range []string{secret, a.Signature} {
		if strings.Contains(err.Error(), leak) {
			t.Fatalf("error leaks %q: %v", leak, err)
		}
	}
}

// TestSessionToken: temporary credentials need their own session token,
// signed.
func TestSessionToken(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	hash := sha256.Sum256([]byte("the-session-token"))
	v := NewVerifier("cognito-identity", func(_ context.Context, id string) (*fedid.Credential, error) {
		return &fedid.Credential{Secret: "s", Account: "000000000000", TokenHash: hash[:], ARN: "arn:aws:sts::000000000000:assumed-role/r/CognitoIdentityCredentials"}, nil
	}, fixedClock(now))
	sign := func(token string) *http.Request {
		r := newAPIRequest("{}", "us-east-1")
		sum := sha256.Sum256([]byte("{}"))
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "ASIAX", SecretAccessKey: "s", SessionToken: token},
			r, hex.EncodeToString(sum[:]), "cognito-identity", "us-east-1", now)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	c, err := v.Verify(context.Background(), sign("the-session-token"), []byte("{}"))
	if err != nil || !c.Session || c.ARN == "" {
		t.Fatalf("valid session: %v %+v", err, c)
	}
	for _, tok := range []string{"", "another-token"} {
		if _, err := v.Verify(context.Background(), sign(tok), []byte("{}")); fedid.ErrorKind(err) != fedid.KindUnrecognizedClient {
			t.Errorf("token %q: %v", tok, err)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	f.Add("AWS4-HMAC-SHA256 Credential=/, SignedHeaders=;, Signature=")
	f.Add("AWS4-HMAC-SHA256 ,,,===")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			if a != nil {
				t.Fatal("result with error")
			}
			return
		}
		if c := strings.Count(h, "/"); c < 4 {
			t.Fatalf("accepted a credential of %d slashes", c)
		}
		// A parsed header re-renders to one that parses to the same value.
		again := fmt.Sprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
			Algorithm, a.AccessKeyID, a.Scope(), strings.Join(a.SignedHeaders, ";"), a.Signature)
		b, err := ParseAuthorization(again)
		if err != nil {
			t.Fatalf("re-rendered %q: %v", again, err)
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("round trip %+v != %+v", a, b)
		}
		if len(a.Signature) != 64 || !isHex(a.Signature) {
			t.Fatal("accepted a bad signature")
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	v := NewVerifier("cognito-identity", lookup(exampleKeys), fixedClock(now))
	r := newAPIRequest(kaBody, "us-east-1")
	sdkSign(b, r, kaBody, exampleKeyID, exampleSecret, "us-east-1", "cognito-identity", now)
	body := []byte(kaBody)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, body); err != nil {
			b.Fatal(err)
		}
	}
}
