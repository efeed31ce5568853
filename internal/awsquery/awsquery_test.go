package awsquery

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
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

const (
	account  = "123456789012"
	other    = "210987654321"
	rootARN  = "arn:aws:iam::" + account + ":root"
	roleARN  = "arn:aws:sts::" + account + ":assumed-role/Cognito_Auth/" + fedid.SessionName
	thumb    = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
	xmlStart = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
)

var (
	root    = fedid.Caller{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Account: account, Region: "us-east-1", ARN: rootARN}
	session = fedid.Caller{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", Account: account, Region: "us-east-1", ARN: roleARN, Session: true}
	t0      = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// stubVerifier returns a fixed caller or error and records the bodies it
// was given.
type stubVerifier struct {
	caller fedid.Caller
	err    error

	mu     sync.Mutex
	bodies []string
}

func (v *stubVerifier) Verify(_ context.Context, _ *http.Request, body []byte) (fedid.Caller, error) {
	v.mu.Lock()
	v.bodies = append(v.bodies, string(body))
	v.mu.Unlock()
	return v.caller, v.err
}

func (v *stubVerifier) calls() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.bodies)
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

func newHandler(tb testing.TB, sts, iam *stubVerifier) *Handler {
	tb.Helper()
	return &Handler{STS: sts, IAM: iam, Providers: openStore(tb),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: fixedClock(t0)}
}

type response struct {
	status    int
	body      string
	requestID string
	header    http.Header
}

// post sends body as a query-protocol request through ServeHTTP.
func post(tb testing.TB, h http.Handler, body string) response {
	tb.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := response{status: w.Code, body: w.Body.String(), header: w.Header()}
	if ids := w.Header()["x-amzn-RequestId"]; len(ids) == 1 {
		res.requestID = ids[0]
	} else {
		tb.Fatalf("x-amzn-RequestId header: %q", ids)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/xml" {
		tb.Errorf("Content-Type %q, want text/xml", ct)
	}
	return res
}

// errorXML is the exact query-protocol error document.
func errorXML(ns, typ, code, message, requestID string) string {
	return xmlStart + `<ErrorResponse xmlns="` + ns + `"><Error><Type>` + typ + `</Type><Code>` + code +
		`</Code><Message>` + message + `</Message></Error><RequestId>` + requestID + `</RequestId></ErrorResponse>`
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

var reRoleUserID = regexp.MustCompile(`^AROA[A-Z2-7]{17}:` + fedid.SessionName + `$`)

func TestGetCallerIdentity(t *testing.T) {
	for _, tc := range []struct {
		name   string
		caller fedid.Caller
		userID string // "" for the role form, checked by pattern
	}{
		{"access key", root, account},
		{"session", session, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sts := &stubVerifier{caller: tc.caller}
			iam := &stubVerifier{err: errors.New("IAM verifier used for STS")}
			body := form("Action", "GetCallerIdentity", "Version", "2011-06-15")
			res := post(t, newHandler(t, sts, iam), body)
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			var got struct {
				XMLName xml.Name
				Arn     string `xml:"GetCallerIdentityResult>Arn"`
				UserID  string `xml:"GetCallerIdentityResult>UserId"`
				Account string `xml:"GetCallerIdentityResult>Account"`
			}
			if err := xml.Unmarshal([]byte(res.body), &got); err != nil {
				t.Fatal(err)
			}
			if got.XMLName != (xml.Name{Space: stsNS, Local: "GetCallerIdentityResponse"}) {
				t.Errorf("root element %v", got.XMLName)
			}
			if got.Arn != tc.caller.ARN || got.Account != account {
				t.Errorf("Arn %q Account %q", got.Arn, got.Account)
			}
			if tc.userID != "" && got.UserID != tc.userID || tc.userID == "" && !reRoleUserID.MatchString(got.UserID) {
				t.Errorf("UserId %q", got.UserID)
			}
			want := xmlStart + `<GetCallerIdentityResponse xmlns="` + stsNS + `"><GetCallerIdentityResult><Arn>` + got.Arn +
				`</Arn><UserId>` + got.UserID + `</UserId><Account>` + account + `</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`
			if res.body != want {
				t.Errorf("body\n%s\nwant\n%s", res.body, want)
			}
			if sts.calls() != 1 || sts.bodies[0] != body || iam.calls() != 0 {
				t.Errorf("STS verifier got %q, IAM verifier %d calls", sts.bodies, iam.calls())
			}
		})
	}
}

func TestRoleID(t *testing.T) {
	a := RoleID("arn:aws:sts::123456789012:assumed-role/Cognito_Auth/" + fedid.SessionName)
	for _, tc := range []struct {
		name string
		arn  string
		same bool
	}{
		{"same role", "arn:aws:sts::123456789012:assumed-role/Cognito_Auth/" + fedid.SessionName, true},
		{"other role", "arn:aws:sts::123456789012:assumed-role/Cognito_Unauth/" + fedid.SessionName, false},
		{"other account", "arn:aws:sts::210987654321:assumed-role/Cognito_Auth/" + fedid.SessionName, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := RoleID(tc.arn)
			if !regexp.MustCompile(`^AROA[A-Z2-7]{17}$`).MatchString(b) {
				t.Errorf("RoleID %q is not AROA + 17 characters", b)
			}
			if (a == b) != tc.same {
				t.Errorf("RoleID %q vs %q: same = %v, want %v", a, b, a == b, tc.same)
			}
		})
	}
}

func TestRequestErrors(t *testing.T) {
	long := strings.Repeat("X", 100)
	for _, tc := range []struct {
		name, body       string
		status           int
		code, message    string
		verifierNotAsked bool
	}{
		{"bad escape", "Action=GetCallerIdentity&x=%zz", 400, "MalformedQueryString", "The request body is not a valid query string.", true},
		{"semicolon", "Action=GetCallerIdentity;x=1", 400, "MalformedQueryString", "The request body is not a valid query string.", true},
		{"invalid UTF-8 value", "Action=GetCallerIdentity&x=%ff", 400, "MalformedQueryString", "A parameter name or value is not valid UTF-8.", true},
		{"invalid UTF-8 name", "Action=GetCallerIdentity&%c3%28=1", 400, "MalformedQueryString", "A parameter name or value is not valid UTF-8.", true},
		{"unknown action", "Action=AssumeRole", 400, "InvalidAction", "Could not find operation AssumeRole", true},
		{"no action", "Version=2011-06-15", 400, "InvalidAction", "Could not find operation ", true},
		{"long action truncated", "Action=" + long, 400, "InvalidAction", "Could not find operation " + long[:64] + "...", true},
		{"oversized body", "Action=GetCallerIdentity&x=" + strings.Repeat("a", maxBody), 400, "InvalidParameterValue", "The request body could not be read.", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sts, iam := &stubVerifier{caller: root}, &stubVerifier{caller: root}
			res := post(t, newHandler(t, sts, iam), tc.body)
			if res.status != tc.status {
				t.Errorf("status %d, want %d", res.status, tc.status)
			}
			if want := errorXML(stsNS, "Sender", tc.code, tc.message, res.requestID); res.body != want {
				t.Errorf("body\n%s\nwant\n%s", res.body, want)
			}
			if tc.verifierNotAsked && sts.calls()+iam.calls() != 0 {
				t.Errorf("verifier called for a refused request")
			}
		})
	}
}

// TestBodyAtLimit: a body of exactly maxBody bytes is read, not refused.
func TestBodyAtLimit(t *testing.T) {
	body := "Action=GetCallerIdentity&x="
	body += strings.Repeat("a", maxBody-len(body))
	res := post(t, newHandler(t, &stubVerifier{caller: root}, nil), body)
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
}

func TestAuthErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		action string
		err    error
		ns     string
		status int
		typ    string
		code   string
		msg    string
	}{
		{"missing token", "GetCallerIdentity", fedid.Errorf(fedid.KindMissingAuthenticationToken, "Missing Authentication Token"), stsNS, 403, "Sender", "MissingAuthenticationToken", "Missing Authentication Token"},
		{"incomplete signature", "GetCallerIdentity", fedid.Errorf(fedid.KindIncompleteSignature, "incomplete"), stsNS, 403, "Sender", "IncompleteSignature", "incomplete"},
		{"bad signature on IAM", "ListOpenIDConnectProviders", fedid.Errorf(fedid.KindInvalidSignature, "The request signature we calculated does not match"), iamNS, 403, "Sender", "SignatureDoesNotMatch", "The request signature we calculated does not match"},
		{"unknown key", "GetOpenIDConnectProvider", fedid.Errorf(fedid.KindUnrecognizedClient, "The security token included in the request is invalid."), iamNS, 403, "Sender", "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"access denied", "GetCallerIdentity", fedid.Errorf(fedid.KindAccessDenied, "denied"), stsNS, 403, "Sender", "AccessDenied", "denied"},
		{"unexpected error is internal, its text not sent", "ListOpenIDConnectProviders", errors.New("database on fire"), iamNS, 500, "Receiver", "InternalFailure", "An internal error occurred."},
		{"non-auth kind is internal", "GetCallerIdentity", fedid.Errorf(fedid.KindInvalidParameter, "secret detail"), stsNS, 500, "Receiver", "InternalFailure", "An internal error occurred."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &stubVerifier{err: tc.err}
			h := newHandler(t, v, v)
			res := post(t, h, form("Action", tc.action))
			if res.status != tc.status {
				t.Errorf("status %d, want %d", res.status, tc.status)
			}
			if want := errorXML(tc.ns, tc.typ, tc.code, tc.msg, res.requestID); res.body != want {
				t.Errorf("body\n%s\nwant\n%s", res.body, want)
			}
		})
	}
}

func TestVerifierPerService(t *testing.T) {
	sts := &stubVerifier{caller: root}
	iam := &stubVerifier{err: fedid.Errorf(fedid.KindUnrecognizedClient, "iam refused")}
	h := newHandler(t, sts, iam)
	if res := post(t, h, form("Action", "GetCallerIdentity")); res.status != http.StatusOK {
		t.Errorf("STS call: status %d", res.status)
	}
	if res := post(t, h, form("Action", "ListOpenIDConnectProviders")); res.status != http.StatusForbidden {
		t.Errorf("IAM call not checked by the IAM verifier: status %d", res.status)
	}
	if sts.calls() != 1 || iam.calls() != 1 {
		t.Errorf("calls: sts %d iam %d, want 1 and 1", sts.calls(), iam.calls())
	}
}

func TestIsQuery(t *testing.T) {
	for _, tc := range []struct {
		name, ct, target string
		want             bool
	}{
		{"form", "application/x-www-form-urlencoded", "", true},
		{"form with charset, any case", "Application/X-WWW-Form-URLEncoded; charset=utf-8", "", true},
		{"JSON API", "application/x-amz-json-1.1", "AWSCognitoIdentityService.GetId", false},
		{"form with a target", "application/x-www-form-urlencoded", "AWSCognitoIdentityService.GetId", false},
		{"no content type", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			if got := IsQuery(r); got != tc.want {
				t.Errorf("IsQuery = %v, want %v", got, tc.want)
			}
		})
	}
}
