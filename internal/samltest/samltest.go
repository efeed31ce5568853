// Package samltest is a SAML 2.0 identity provider for tests: an RSA key
// with a self-signed certificate, its metadata document, and signed
// SAMLResponses addressed to AWS (audience urn:amazon:webservices,
// recipient the AWS sign-in endpoint), with the pieces exposed (etree
// elements) so that tests can build forged ones. Signing is goxmldsig's
// (enveloped, exclusive canonicalization, RSA-SHA256).
package samltest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Namespaces and values of SAML responses.
const (
	NSAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	Audience    = "urn:amazon:webservices"
	Recipient   = "https://signin.aws.amazon.com/saml"
	RoleAttr    = "https://aws.amazon.com/SAML/Attributes/Role"
)

// IdP is a test identity provider.
type IdP struct {
	EntityID string
	Key      *rsa.PrivateKey
	CertDER  []byte
}

// New makes an IdP with a fresh 2048-bit key and a certificate valid from
// a day before now to a year after.
func New(entityID string, now time.Time) (*IdP, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "fedid test IdP"},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &IdP{EntityID: entityID, Key: key, CertDER: der}, nil
}

// Metadata is the IdP's metadata document (an EntityDescriptor with its
// signing certificate), the document IAM's CreateSAMLProvider takes.
func (i *IdP) Metadata() string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="` + i.EntityID + `">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo>
        <ds:X509Data>
          <ds:X509Certificate>` + base64.StdEncoding.EncodeToString(i.CertDER) + `</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`
}

// Assertion describes an assertion; zero fields take the values AWS
// expects.
type Assertion struct {
	NameID string
	// Issuer defaults to the IdP's entity ID.
	Issuer    string
	Audience  string // default urn:amazon:webservices
	Recipient string // default https://signin.aws.amazon.com/saml
	// Now is the issue time: NotBefore is a minute before, NotOnOrAfter
	// (of the Conditions and the SubjectConfirmationData) Lifetime after
	// (default 5 minutes).
	Now      time.Time
	Lifetime time.Duration
	// Roles are the Role attribute's values ("roleArn,providerArn").
	Roles []string
	// Attributes are other attributes.
	Attributes map[string][]string
}

var seq int

func newID() string {
	seq++
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return fmt.Sprintf("_%x%d", b, seq)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// AssertionElement builds an unsigned saml:Assertion.
func (i *IdP) AssertionElement(a Assertion) *etree.Element {
	if a.Issuer == "" {
		a.Issuer = i.EntityID
	}
	if a.Audience == "" {
		a.Audience = Audience
	}
	if a.Recipient == "" {
		a.Recipient = Recipient
	}
	if a.Lifetime == 0 {
		a.Lifetime = 5 * time.Minute
	}
	el := etree.NewElement("saml:Assertion")
	el.CreateAttr("xmlns:saml", NSAssertion)
	el.CreateAttr("ID", newID())
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", stamp(a.Now))
	el.CreateElement("saml:Issuer").SetText(a.Issuer)
	subj := el.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
	nid.SetText(a.NameID)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	scd.CreateAttr("NotOnOrAfter", stamp(a.Now.Add(a.Lifetime)))
	scd.CreateAttr("Recipient", a.Recipient)
	cond := el.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", stamp(a.Now.Add(-time.Minute)))
	cond.CreateAttr("NotOnOrAfter", stamp(a.Now.Add(a.Lifetime)))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(a.Audience)
	authn := el.CreateElement("saml:AuthnStatement")
	authn.CreateAttr("AuthnInstant", stamp(a.Now))
	authn.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").
		SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
	attrs := el.CreateElement("saml:AttributeStatement")
	add := func(name string, values []string) {
		at := attrs.CreateElement("saml:Attribute")
		at.CreateAttr("Name", name)
		for _, v := range values {
			at.CreateElement("saml:AttributeValue").SetText(v)
		}
	}
	if len(a.Roles) > 0 {
		add(RoleAttr, a.Roles)
	}
	for name, values := range a.Attributes {
		add(name, values)
	}
	return el
}

// ResponseElement wraps assertions in an unsigned samlp:Response from the
// IdP (Destination: the AWS sign-in endpoint, status Success).
func (i *IdP) ResponseElement(now time.Time, assertions ...*etree.Element) *etree.Element {
	el := etree.NewElement("samlp:Response")
	el.CreateAttr("xmlns:samlp", NSProtocol)
	el.CreateAttr("xmlns:saml", NSAssertion)
	el.CreateAttr("ID", newID())
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", stamp(now))
	el.CreateAttr("Destination", Recipient)
	el.CreateElement("saml:Issuer").SetText(i.EntityID)
	el.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").
		CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Success")
	for _, a := range assertions {
		el.AddChild(a)
	}
	return el
}

// Sign returns el signed (enveloped signature with the IdP's certificate
// in its KeyInfo, placed after the Issuer as SAML's schema wants).
func (i *IdP) Sign(el *etree.Element) (*etree.Element, error) {
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{i.CertDER}, PrivateKey: i.Key}))
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, err
	}
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		return nil, err
	}
	// Move the Signature after the Issuer.
	// (goxmldsig appends it to the element's children without an index,
	// so it is taken out of the slice by hand.)
	for j, tok := range signed.Child {
		if sig, ok := tok.(*etree.Element); ok && sig.Tag == "Signature" && j > 1 {
			signed.Child = append(signed.Child[:j], signed.Child[j+1:]...)
			signed.InsertChildAt(1, sig)
			break
		}
	}
	return signed, nil
}

// Encode serializes a Response element as a base64 SAMLResponse.
func Encode(el *etree.Element) string {
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	s, err := doc.WriteToString()
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString([]byte(s))
}

// SignedResponse is the common case: a Response with one assertion, the
// assertion signed (signAssertion) and/or the Response signed
// (signResponse).
func (i *IdP) SignedResponse(a Assertion, signAssertion, signResponse bool) (string, error) {
	as := i.AssertionElement(a)
	var err error
	if signAssertion {
		if as, err = i.Sign(as); err != nil {
			return "", err
		}
	}
	r := i.ResponseElement(a.Now, as)
	if a.Recipient != "" {
		r.RemoveAttr("Destination")
		r.CreateAttr("Destination", a.Recipient)
	}
	if signResponse {
		if r, err = i.Sign(r); err != nil {
			return "", err
		}
	}
	return Encode(r), nil
}

// RolePair formats a Role attribute value.
func RolePair(roleARN, providerARN string) string {
	return strings.Join([]string{roleARN, providerARN}, ",")
}
