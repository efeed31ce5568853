package credentials

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/sqlite"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

const (
	roleARN    = "arn:aws:iam::123456789012:role/Cognito_Auth"
	identityID = "us-east-1:11111111-2222-3333-4444-555555555555"
	poolID     = "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
)

func request() *fedid.CredentialRequest {
	return &fedid.CredentialRequest{
		Pool:       &fedid.Pool{ID: poolID, Account: "123456789012", Region: "us-east-1"},
		IdentityID: identityID,
		RoleARN:    roleARN,
		Token:      "eyJhbGciOiJSUzUxMiJ9.e30.sig",
		Tags:       map[string]string{"team": "blue"},
	}
}

func openStore(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "fedid.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

var (
	reAccessKey = regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`)
	reSecret    = regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
)

func TestLocalIssue(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		wantTTL time.Duration
	}{
		{"explicit ttl", 15 * time.Minute, 15 * time.Minute},
		{"zero ttl is the default", 0, DefaultTTL},
		{"negative ttl is the default", -time.Second, DefaultTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := openStore(t)
			l := NewLocal(st, fixedClock(t0), tc.ttl)
			got, err := l.Issue(ctx, request())
			if err != nil {
				t.Fatal(err)
			}
			if !reAccessKey.MatchString(got.AccessKeyID) {
				t.Errorf("access key %q is not ASIA + 16 base32 characters", got.AccessKeyID)
			}
			if !reSecret.MatchString(got.SecretKey) {
				t.Errorf("secret %q is not 40 base64 characters", got.SecretKey)
			}
			if tok, err := base64.StdEncoding.DecodeString(got.SessionToken); err != nil || len(tok) != 256 {
				t.Errorf("session token is not 256 random bytes in base64: %d bytes, %v", len(tok), err)
			}
			if want := t0.Add(tc.wantTTL); !got.Expiration.Equal(want) {
				t.Errorf("expiration %v, want %v", got.Expiration, want)
			}

			s, err := st.GetSession(ctx, got.AccessKeyID)
			if err != nil {
				t.Fatalf("session not stored: %v", err)
			}
			if s.Secret != got.SecretKey {
				t.Errorf("stored secret differs from the issued one")
			}
			sum := sha256.Sum256([]byte(got.SessionToken))
			if !bytes.Equal(s.TokenHash, sum[:]) {
				t.Errorf("stored token hash is not SHA-256 of the token")
			}
			if !s.ExpiresAt.Equal(t0.Add(tc.wantTTL)) || !s.CreatedAt.Equal(t0) {
				t.Errorf("stored created %v expires %v, want %v and %v", s.CreatedAt, s.ExpiresAt, t0, t0.Add(tc.wantTTL))
			}
			if s.Account != "123456789012" || s.RoleARN != roleARN || s.IdentityID != identityID || s.PoolID != poolID || s.Tags["team"] != "blue" {
				t.Errorf("stored session %+v does not describe the request", *s)
			}
			// The token itself is never stored: no column of the session
			// holds it.
			for _, v := range []string{s.AccessKeyID, s.Secret, string(s.TokenHash), s.Account, s.RoleARN, s.IdentityID, s.PoolID, fmt.Sprint(s.Tags)} {
				if strings.Contains(v, got.SessionToken) {
					t.Errorf("session token stored in clear")
				}
			}
		})
	}
}

func TestLocalIssueUnique(t *testing.T) {
	st := openStore(t)
	l := NewLocal(st, fixedClock(t0), 0)
	a, err := l.Issue(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Issue(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessKeyID == b.AccessKeyID || a.SecretKey == b.SecretKey || a.SessionToken == b.SessionToken {
		t.Errorf("two issues share a value: %q %q", a.AccessKeyID, b.AccessKeyID)
	}
}

type failingStore struct{}

func (failingStore) PutSession(context.Context, fedid.Session) error { return errors.New("disk full") }

func TestLocalStoreFailure(t *testing.T) {
	_, err := NewLocal(failingStore{}, fixedClock(t0), 0).Issue(context.Background(), request())
	if fedid.ErrorKind(err) != fedid.KindInternal || err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want an internal error wrapping the cause", err)
	}
}

// fakeSTS speaks STS's query/XML protocol for AssumeRoleWithWebIdentity.
type fakeSTS struct {
	status int
	body   string

	mu    sync.Mutex
	forms []url.Values
}

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(b))
	f.mu.Lock()
	f.forms = append(f.forms, form)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(f.status)
	_, _ = io.WriteString(w, f.body)
}

func (f *fakeSTS) lastForm(tb testing.TB) url.Values {
	tb.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.forms) == 0 {
		tb.Fatal("STS was not called")
	}
	return f.forms[len(f.forms)-1]
}

func startSTS(tb testing.TB, status int, body string) (*fakeSTS, string) {
	tb.Helper()
	f := &fakeSTS{status: status, body: body}
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	return f, srv.URL
}

const okResponse = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>us-east-1:11111111-2222-3333-4444-555555555555</SubjectFromWebIdentityToken>
    <Credentials>
      <AccessKeyId>ASIAEXAMPLEEXAMPLE12</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>
      <SessionToken>FwoGZXIvYXdzEXAMPLE</SessionToken>
      %s
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`

func errorResponse(code string) string {
	return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>` + code + `</Code><Message>refused</Message></Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>`
}

func TestSTSIssue(t *testing.T) {
	for _, tc := range []struct {
		name    string
		expElem string
		wantExp time.Time
	}{
		{"expiration from STS", "<Expiration>2026-11-24T12:30:00Z</Expiration>", t0.Add(30 * time.Minute)},
		{"no expiration: clock plus ttl", "", t0.Add(20 * time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, endpoint := startSTS(t, http.StatusOK, fmt.Sprintf(okResponse, tc.expElem))
			req := request()
			got, err := NewSTS(endpoint, "us-east-1", fixedClock(t0), 20*time.Minute).Issue(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			want := fedid.IssuedCredentials{AccessKeyID: "ASIAEXAMPLEEXAMPLE12", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
				SessionToken: "FwoGZXIvYXdzEXAMPLE", Expiration: tc.wantExp}
			if got.AccessKeyID != want.AccessKeyID || got.SecretKey != want.SecretKey || got.SessionToken != want.SessionToken || !got.Expiration.Equal(want.Expiration) {
				t.Errorf("got %+v, want %+v", *got, want)
			}
			form := f.lastForm(t)
			for k, v := range map[string]string{
				"Action": "AssumeRoleWithWebIdentity", "RoleArn": roleARN, "WebIdentityToken": req.Token,
				"RoleSessionName": fedid.SessionName, "DurationSeconds": "1200",
			} {
				if form.Get(k) != v {
					t.Errorf("request %s = %q, want %q", k, form.Get(k), v)
				}
			}
		})
	}
}

func TestSTSErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   fedid.Kind
	}{
		{"AccessDenied", 403, errorResponse("AccessDenied"), fedid.KindInvalidIdentityPoolConfiguration},
		{"InvalidIdentityToken", 400, errorResponse("InvalidIdentityToken"), fedid.KindInvalidIdentityPoolConfiguration},
		{"IDPRejectedClaim", 403, errorResponse("IDPRejectedClaim"), fedid.KindInvalidIdentityPoolConfiguration},
		{"ExpiredTokenException", 400, errorResponse("ExpiredTokenException"), fedid.KindInvalidIdentityPoolConfiguration},
		{"ValidationError", 400, errorResponse("ValidationError"), fedid.KindInvalidIdentityPoolConfiguration},
		{"unlisted sender code", 400, errorResponse("SomethingElse"), fedid.KindExternalService},
		{"500", 500, errorResponse("InternalFailure"), fedid.KindExternalService},
		{"503 without body", 503, "", fedid.KindExternalService},
		{"empty credentials", 200, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>`, fedid.KindExternalService},
		{"credentials without token", 200, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAEXAMPLEEXAMPLE12</AccessKeyId>
  <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey></Credentials></AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>`, fedid.KindExternalService},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, endpoint := startSTS(t, tc.status, tc.body)
			got, err := NewSTS(endpoint, "us-east-1", fixedClock(t0), 0).Issue(context.Background(), request())
			if err == nil {
				t.Fatalf("no error; got %+v", *got)
			}
			if k := fedid.ErrorKind(err); k != tc.want {
				t.Errorf("kind %v, want %v (err %v)", k, tc.want, err)
			}
			if fedid.ErrorMessage(err) == "" {
				t.Errorf("no client-safe message: %v", err)
			}
		})
	}
}

func TestSTSUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = NewSTS("http://"+addr, "us-east-1", fixedClock(t0), 0).Issue(context.Background(), request())
	if k := fedid.ErrorKind(err); k != fedid.KindExternalService {
		t.Fatalf("kind %v, want ExternalService (err %v)", k, err)
	}
}
