package federation

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"regexp"
	"strings"
	"time"

	saml2 "github.com/russellhaering/gosaml2"
	samltypes "github.com/russellhaering/gosaml2/types"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/fedid/fedid"
)

// SAMLProviderStore is what the SAML check needs of the store.
type SAMLProviderStore interface {
	GetSAMLProvider(ctx context.Context, arn string) (*fedid.SAMLProvider, error)
}

// AWSSignInSAML is the AWS sign-in endpoint SAML assertions for AWS are
// addressed to (their Recipient, and their Response's Destination when
// it has one).
const AWSSignInSAML = "https://signin.aws.amazon.com/saml"

// reRegionalSignIn is the regional form of the sign-in endpoint, which
// AWS accepts too.
var reRegionalSignIn = regexp.MustCompile(`^https://[a-z]{2}(-[a-z]+)+-\d\.signin\.aws\.amazon\.com/saml$`)

// maxSAMLResponse bounds a decoded SAMLResponse (and its decompression).
const maxSAMLResponse = 1 << 20

func invalidSAML(reason string) error {
	return fedid.Errorf(fedid.KindNotAuthorized, "Invalid login token. Invalid SAML response: %s", fedid.ClipTo(reason, 300))
}

// verifySAML checks a base64 SAMLResponse for the SAML provider arn.
//
// gosaml2 (over goxmldsig) does the XML work: the signature of the
// Response or of its Assertions against the metadata's signing
// certificates, only signed content trusted (an unsigned Response's
// unsigned Assertion is refused, as is a mix of signed and unsigned ones),
// the Issuer of the Response and Assertion against the metadata's
// entityID, a Success status, a bearer SubjectConfirmation whose
// Recipient (and the Response's Destination, if any) is the AWS sign-in
// endpoint, and its NotOnOrAfter. fedid's own checks on top: the
// audience urn:amazon:webservices, required; the Conditions' NotBefore and
// NotOnOrAfter with the same grace as OIDC tokens (Config.Skew) on the
// injected clock (the library is given now-Skew, which is that grace for
// its own NotOnOrAfter checks); a non-empty NameID; and the Role
// attribute's pairs naming this provider.
func (c *Checker) verifySAML(ctx context.Context, arn, token string) (*fedid.VerifiedLogin, error) {
	p, err := c.providers.GetSAMLProvider(ctx, arn)
	if errors.Is(err, fedid.ErrNotFound) {
		return nil, fedid.Errorf(fedid.KindNotAuthorized, "The SAML provider %s is not registered.", fedid.Clip(arn))
	}
	if err != nil {
		return nil, fedid.Internal("get SAML provider", err)
	}
	var md samltypes.EntityDescriptor
	if err := xml.Unmarshal([]byte(p.Metadata), &md); err != nil || md.IDPSSODescriptor == nil || md.EntityID == "" {
		return nil, fedid.Errorf(fedid.KindNotAuthorized, "The metadata of SAML provider %s cannot be read.", fedid.Clip(arn))
	}
	certs := &dsig.MemoryX509CertificateStore{}
	for _, kd := range md.IDPSSODescriptor.KeyDescriptors {
		if kd.Use != "" && kd.Use != "signing" {
			continue
		}
		for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(xc.Data), ""))
			if err != nil {
				continue
			}
			if cert, err := x509.ParseCertificate(der); err == nil {
				certs.Roots = append(certs.Roots, cert)
			}
		}
	}
	if len(certs.Roots) == 0 {
		return nil, fedid.Errorf(fedid.KindNotAuthorized, "The metadata of SAML provider %s has no signing certificate.", fedid.Clip(arn))
	}
	if len(token) > maxSAMLResponse*4/3+4 {
		return nil, invalidSAML("the response is too large")
	}
	now := c.clock.Now()
	sp := &saml2.SAMLServiceProvider{
		IdentityProviderIssuer:      md.EntityID,
		AssertionConsumerServiceURL: AWSSignInSAML,
		AudienceURI:                 fedid.SAMLAudience,
		IDPCertificateStore:         certs,
		AllowMissingAttributes:      true,
		Clock:                       dsig.NewFakeClockAt(now.Add(-c.cfg.Skew)),
		MaximumDecompressedBodySize: maxSAMLResponse,
	}
	info, err := sp.RetrieveAssertionInfo(token)
	var bad saml2.ErrInvalidValue
	cause := err
	if ver, ok := err.(saml2.ErrVerification); ok {
		cause = ver.Cause // it has no Unwrap
	}
	if errors.As(cause, &bad) && (bad.Key == saml2.RecipientAttr || bad.Key == saml2.DestinationAttr) && reRegionalSignIn.MatchString(bad.Actual) {
		// Addressed to a regional sign-in endpoint: AWS accepts those too.
		sp.AssertionConsumerServiceURL = bad.Actual
		info, err = sp.RetrieveAssertionInfo(token)
	}
	if err != nil {
		return nil, invalidSAML(err.Error())
	}
	a := info.Assertions[0]
	cond := a.Conditions // present: the library requires it
	audience := len(cond.AudienceRestrictions) > 0 && !info.WarningInfo.NotInAudience
	if !audience {
		return nil, invalidSAML("the assertion's audience is not " + fedid.SAMLAudience)
	}
	grace := c.cfg.Skew
	notBefore, err1 := time.Parse(time.RFC3339, cond.NotBefore)
	notAfter, err2 := time.Parse(time.RFC3339, cond.NotOnOrAfter)
	switch {
	case err1 != nil || err2 != nil:
		return nil, invalidSAML("the assertion's Conditions times cannot be read")
	case !now.Add(-grace).Before(notAfter):
		return nil, invalidSAML("the assertion expired at " + cond.NotOnOrAfter)
	case now.Add(grace).Before(notBefore):
		return nil, invalidSAML("the assertion is not valid before " + cond.NotBefore)
	}
	nameID := strings.TrimSpace(info.NameID)
	if nameID == "" {
		return nil, invalidSAML("the assertion's NameID is empty")
	}
	claims := map[string]any{}
	for name, attr := range info.Values {
		vals := make([]any, 0, len(attr.Values))
		for _, v := range attr.Values {
			vals = append(vals, strings.TrimSpace(v.Value))
		}
		if len(vals) == 1 {
			claims[name] = vals[0]
		} else {
			claims[name] = vals
		}
	}
	return &fedid.VerifiedLogin{Provider: arn, Key: nameID, Detail: arn + ":SAML:" + nameID, Claims: claims,
		Roles: samlRoles(info.Values[fedid.SAMLRoleAttribute], arn)}, nil
}

var reRoleARN = regexp.MustCompile(`^arn:[a-z-]+:iam::\d{12}:role/.+$`)

// samlRoles reads the Role attribute's "roleArn,providerArn" values (in
// either order) and returns the roles paired with this provider, in the
// assertion's order, without repeats. Pairs naming another provider, and
// values of another form, are left out.
func samlRoles(attr samltypes.Attribute, provider string) []string {
	var out []string
	for _, v := range attr.Values {
		a, b, ok := strings.Cut(strings.TrimSpace(v.Value), ",")
		if !ok {
			continue
		}
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		if reRoleARN.MatchString(b) {
			a, b = b, a
		}
		if !reRoleARN.MatchString(a) || b != provider {
			continue
		}
		seen := false
		for _, r := range out {
			seen = seen || r == a
		}
		if !seen {
			out = append(out, a)
		}
	}
	return out
}
