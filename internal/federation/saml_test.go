package federation

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/samltest"
)

// GetSAMLProvider: the OIDC tests' store has no SAML provider.
func (p providers) GetSAMLProvider(context.Context, string) (*fedid.SAMLProvider, error) {
	return nil, fedid.ErrNotFound
}

// samlStore holds SAML providers.
type samlStore map[string]*fedid.SAMLProvider

func (samlStore) GetOIDCProvider(context.Context, string) (*fedid.OIDCProvider, error) {
	return nil, fedid.ErrNotFound
}

func (s samlStore) GetSAMLProvider(_ context.Context, arn string) (*fedid.SAMLProvider, error) {
	if p, ok := s[arn]; ok {
		return p, nil
	}
	return nil, fedid.ErrNotFound
}

const (
	samlARN  = "arn:aws:iam::000000000000:saml-provider/corp"
	roleA    = "arn:aws:iam::000000000000:role/a"
	roleB    = "arn:aws:iam::000000000000:role/b"
	entityID = "https://idp.example/metadata"
)

// samlSetup registers a test IdP and returns it with a checker and the
// pool trusting it.
func samlSetup(t *testing.T) (*samltest.IdP, *Checker, *fedid.Pool) {
	t.Helper()
	idp, err := samltest.New(entityID, now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fedid.NewSAMLProvider("000000000000", "corp", idp.Metadata(), now)
	if err != nil {
		t.Fatal(err)
	}
	c := New(testConfig(), samlStore{samlARN: &p}, fixedClock{now})
	return idp, c, &fedid.Pool{SAMLProviderARNs: []string{samlARN}}
}

func mustSign(t *testing.T, idp *samltest.IdP, el *etree.Element) *etree.Element {
	t.Helper()
	s, err := idp.Sign(el)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSAMLAccepted(t *testing.T) {
	idp, c, pool := samlSetup(t)
	base := samltest.Assertion{NameID: "alice", Now: now, Roles: []string{samltest.RolePair(roleA, samlARN)},
		Attributes: map[string][]string{"email": {"alice@example.com"}, "groups": {"x", "y"}}}
	for _, tc := range []struct {
		name                    string
		mod                     func(a *samltest.Assertion)
		signAssertion, signResp bool
		roles                   []string
	}{
		{"assertion signed", nil, true, false, []string{roleA}},
		{"response signed", nil, false, true, []string{roleA}},
		{"both signed", nil, true, true, []string{roleA}},
		{"pair in either order, other providers' pairs left out", func(a *samltest.Assertion) {
			a.Roles = []string{samlARN + "," + roleA, samltest.RolePair(roleB, samlARN),
				samltest.RolePair("arn:aws:iam::000000000000:role/c", "arn:aws:iam::000000000000:saml-provider/other"), "junk"}
		}, true, false, []string{roleA, roleB}},
		{"no Role attribute", func(a *samltest.Assertion) { a.Roles = nil }, true, false, nil},
		{"regional sign-in endpoint", func(a *samltest.Assertion) { a.Recipient = "https://eu-west-1.signin.aws.amazon.com/saml" }, true, false, []string{roleA}},
		{"expired within the grace", func(a *samltest.Assertion) { a.Now = now.Add(-8 * time.Minute) }, true, false, []string{roleA}},
		{"not yet valid within the grace", func(a *samltest.Assertion) { a.Now = now.Add(3 * time.Minute) }, true, false, []string{roleA}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			if tc.mod != nil {
				tc.mod(&a)
			}
			resp, err := idp.SignedResponse(a, tc.signAssertion, tc.signResp)
			if err != nil {
				t.Fatal(err)
			}
			v, err := c.VerifyLogin(context.Background(), pool, samlARN, resp)
			if err != nil {
				t.Fatal(err)
			}
			if v.Provider != samlARN || v.Key != "alice" || v.Detail != samlARN+":SAML:alice" || !slices.Equal(v.Roles, tc.roles) {
				t.Fatalf("%+v", v)
			}
			if v.Claims["email"] != "alice@example.com" || len(v.Claims["groups"].([]any)) != 2 {
				t.Fatalf("claims %v", v.Claims)
			}
		})
	}
}

// TestSAMLRefused covers the classic attacks on SAML consumers and the
// checks of the service; each must be refused with NotAuthorized.
func TestSAMLRefused(t *testing.T) {
	idp, c, pool := samlSetup(t)
	other, err := samltest.New(entityID, now) // same entityID, a key not in the metadata
	if err != nil {
		t.Fatal(err)
	}
	good := samltest.Assertion{NameID: "alice", Now: now, Roles: []string{samltest.RolePair(roleA, samlARN)}}
	evil := good
	evil.NameID = "admin"
	signed := func(mod func(*samltest.Assertion)) string {
		a := good
		mod(&a)
		r, err := idp.SignedResponse(a, true, false)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name, resp, msg string
	}{
		{"unsigned assertion in an unsigned response",
			samltest.Encode(idp.ResponseElement(now, idp.AssertionElement(good))), ""},
		{"signature wrapping: signed assertion beside an unsigned one",
			samltest.Encode(idp.ResponseElement(now, idp.AssertionElement(evil), mustSign(t, idp, idp.AssertionElement(good)))), ""},
		{"signature wrapping: signed assertion moved into Extensions, unsigned one in its place", func() string {
			r := idp.ResponseElement(now, idp.AssertionElement(evil))
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(mustSign(t, idp, idp.AssertionElement(good)))
			r.InsertChildAt(1, ext)
			return samltest.Encode(r)
		}(), ""},
		{"signature wrapping: signed assertion nested in an unsigned one", func() string {
			outer := idp.AssertionElement(evil)
			outer.AddChild(mustSign(t, idp, idp.AssertionElement(good)))
			return samltest.Encode(idp.ResponseElement(now, outer))
		}(), ""},
		{"signature wrapping: signed response wrapped in a forged one", func() string {
			inner := mustSign(t, idp, idp.ResponseElement(now, idp.AssertionElement(good)))
			outer := idp.ResponseElement(now, idp.AssertionElement(evil))
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(inner)
			outer.InsertChildAt(1, ext)
			return samltest.Encode(outer)
		}(), ""},
		{"assertion changed after signing", func() string {
			as := mustSign(t, idp, idp.AssertionElement(good))
			as.FindElement("./saml:Subject/saml:NameID").SetText("admin")
			return samltest.Encode(idp.ResponseElement(now, as))
		}(), ""},
		{"certificate not in the metadata", func() string {
			r, err := other.SignedResponse(good, true, true)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}(), "Invalid login token. Invalid SAML response: error validating response: Could not verify certificate"},
		{"expired", signed(func(a *samltest.Assertion) { a.Now = now.Add(-time.Hour) }), ""},
		{"expired just past the grace", signed(func(a *samltest.Assertion) { a.Now = now.Add(-10*time.Minute - time.Second) }), ""},
		{"not yet valid", signed(func(a *samltest.Assertion) { a.Now = now.Add(time.Hour) }), "Invalid login token. Invalid SAML response: the assertion is not valid before"},
		{"another audience", signed(func(a *samltest.Assertion) { a.Audience = "https://app.example" }), "Invalid login token. Invalid SAML response: the assertion's audience"},
		{"wrong issuer", signed(func(a *samltest.Assertion) { a.Issuer = "https://evil.example" }), ""},
		{"another recipient", signed(func(a *samltest.Assertion) { a.Recipient = "https://app.example/acs" }), ""},
		{"empty NameID", signed(func(a *samltest.Assertion) { a.NameID = "" }), "Invalid login token. Invalid SAML response: the assertion's NameID is empty"},
		{"not base64", "%%%", ""},
		{"not XML", "PGZvbz4=", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := c.VerifyLogin(context.Background(), pool, samlARN, tc.resp)
			if err == nil {
				t.Fatalf("accepted: %+v", v)
			}
			msg := tc.msg
			if msg == "" {
				msg = "Invalid login token. Invalid SAML response:"
			}
			wantErr(t, err, fedid.KindNotAuthorized, msg)
			t.Log(err)
		})
	}
}

func TestSAMLNoAudienceRestriction(t *testing.T) {
	idp, c, pool := samlSetup(t)
	as := idp.AssertionElement(samltest.Assertion{NameID: "alice", Now: now})
	cond := as.FindElement("./saml:Conditions")
	cond.RemoveChild(cond.SelectElement("AudienceRestriction"))
	resp := samltest.Encode(idp.ResponseElement(now, mustSign(t, idp, as)))
	_, err := c.VerifyLogin(context.Background(), pool, samlARN, resp)
	wantErr(t, err, fedid.KindNotAuthorized, "Invalid login token. Invalid SAML response: the assertion's audience")
}

// A comment inside the NameID does not cut the user short: the signature
// covers the text without comments (exclusive c14n), and fedid takes the
// whole text, never the part before the comment.
func TestSAMLCommentInNameID(t *testing.T) {
	idp, c, pool := samlSetup(t)
	as := mustSign(t, idp, idp.AssertionElement(samltest.Assertion{NameID: "alice@example.com.evil.com", Now: now}))
	nid := as.FindElement("./saml:Subject/saml:NameID")
	nid.SetText("alice@example.com")
	nid.CreateComment("")
	nid.CreateText(".evil.com")
	resp := samltest.Encode(idp.ResponseElement(now, as))
	if !strings.Contains(string(mustDecode(t, resp)), "alice@example.com<!---->.evil.com") {
		t.Fatal("the comment is not in the response")
	}
	v, err := c.VerifyLogin(context.Background(), pool, samlARN, resp)
	if err != nil {
		t.Fatal(err)
	}
	if v.Key != "alice@example.com.evil.com" {
		t.Fatalf("NameID %q", v.Key)
	}
}

func TestSAMLProviderNotRegistered(t *testing.T) {
	idp, _, pool := samlSetup(t)
	c := New(testConfig(), samlStore{}, fixedClock{now})
	resp, err := idp.SignedResponse(samltest.Assertion{NameID: "alice", Now: now}, true, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.VerifyLogin(context.Background(), pool, samlARN, resp)
	wantErr(t, err, fedid.KindNotAuthorized, "The SAML provider "+samlARN+" is not registered.")
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
