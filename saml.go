package fedid

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"regexp"
	"strings"
	"time"
)

// SAMLAudience is the audience every SAML assertion for AWS names.
const SAMLAudience = "urn:amazon:webservices"

// SAMLRoleAttribute is the attribute whose values ("roleArn,providerArn",
// in either order) name the roles an assertion grants.
const SAMLRoleAttribute = "https://aws.amazon.com/SAML/Attributes/Role"

// IAM's limits on a SAML provider's registration.
const (
	MinSAMLMetadata = 1000
	MaxSAMLMetadata = 10000000
)

// SAMLProvider is a SAML 2.0 identity provider registered for an account,
// the way IAM registers them; pools trust it by its ARN, and logins name
// it by its ARN.
type SAMLProvider struct {
	// ARN is arn:aws:iam::<account>:saml-provider/<name>.
	ARN     string
	Account string
	Name    string
	// Metadata is the SAML metadata document as registered: the IdP's
	// entityID (the assertions' issuer) and signing certificates.
	Metadata string
	// ValidUntil is the metadata's validUntil; zero when it has none.
	ValidUntil time.Time
	CreatedAt  time.Time
}

// SAMLProviderARN is the ARN of a SAML provider of an account.
func SAMLProviderARN(account, name string) string {
	return "arn:" + Partition + ":iam::" + account + ":saml-provider/" + name
}

var reSAMLProviderName = regexp.MustCompile(`^[\w._-]{1,128}$`)

// ValidSAMLProviderName reports whether name is one IAM accepts (1-128 of
// letters, digits, '_', '.', '-').
func ValidSAMLProviderName(name string) bool { return reSAMLProviderName.MatchString(name) }

// NewSAMLProvider validates a SAML provider's registration with IAM's rules
// and returns it: a name of 1-128 characters of [\w._-], a metadata
// document of 1,000 to 10,000,000 characters that is an EntityDescriptor
// with an entityID and an IDPSSODescriptor holding at least one signing
// certificate. The one validator of SAML provider input: the IAM API, the
// declared-state file and the command line all come through it. Errors
// are *Error of kind InvalidParameter (the metadata) or Validation (the
// name, the lengths).
func NewSAMLProvider(account, name, metadata string, now time.Time) (SAMLProvider, error) {
	if !ValidSAMLProviderName(name) {
		return SAMLProvider{}, Errorf(KindValidation,
			"1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w._-]+ and have length between 1 and 128", Clip(name))
	}
	md, err := ParseSAMLMetadata(metadata)
	if err != nil {
		return SAMLProvider{}, err
	}
	return SAMLProvider{ARN: SAMLProviderARN(account, name), Account: account, Name: name, Metadata: metadata,
		ValidUntil: md.ValidUntil, CreatedAt: now.UTC()}, nil
}

// SAMLMetadata is what fedid reads of a metadata document to validate it.
// The assertions themselves are checked by a SAML library
// (internal/federation), which reads the document again its own way.
type SAMLMetadata struct {
	EntityID     string
	ValidUntil   time.Time
	Certificates []*x509.Certificate
}

type mdKeyDescriptor struct {
	Use   string   `xml:"use,attr"`
	Certs []string `xml:"KeyInfo>X509Data>X509Certificate"`
}

type mdEntityDescriptor struct {
	XMLName    xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntityDescriptor"`
	EntityID   string   `xml:"entityID,attr"`
	ValidUntil string   `xml:"validUntil,attr"`
	IDP        []struct {
		Keys []mdKeyDescriptor `xml:"KeyDescriptor"`
	} `xml:"IDPSSODescriptor"`
}

// ParseSAMLMetadata checks a metadata document's length and form and
// returns its entityID, validUntil and IdP signing certificates (a
// KeyDescriptor with use="signing" or no use). Errors are *Error: kind
// Validation for the length, InvalidParameter for the rest.
func ParseSAMLMetadata(doc string) (*SAMLMetadata, error) {
	if len(doc) < MinSAMLMetadata || len(doc) > MaxSAMLMetadata {
		return nil, Errorf(KindValidation,
			"1 validation error detected: Value at 'sAMLMetadataDocument' failed to satisfy constraint: Member must have length between %d and %d", MinSAMLMetadata, MaxSAMLMetadata)
	}
	var ed mdEntityDescriptor
	dec := xml.NewDecoder(bytes.NewReader([]byte(doc)))
	if err := dec.Decode(&ed); err != nil {
		return nil, Errorf(KindInvalidParameter, "Could not parse metadata: %s", ClipTo(err.Error(), 200))
	}
	if strings.TrimSpace(ed.EntityID) == "" {
		return nil, Errorf(KindInvalidParameter, "Could not parse metadata: the EntityDescriptor has no entityID.")
	}
	md := &SAMLMetadata{EntityID: ed.EntityID}
	if ed.ValidUntil != "" {
		t, err := time.Parse(time.RFC3339, ed.ValidUntil)
		if err != nil {
			return nil, Errorf(KindInvalidParameter, "Could not parse metadata: validUntil %q is not a date-time.", Clip(ed.ValidUntil))
		}
		md.ValidUntil = t.UTC()
	}
	if len(ed.IDP) == 0 {
		return nil, Errorf(KindInvalidParameter, "Could not parse metadata: no IDPSSODescriptor.")
	}
	for _, idp := range ed.IDP {
		for _, k := range idp.Keys {
			if k.Use != "" && k.Use != "signing" {
				continue
			}
			for _, c := range k.Certs {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c), ""))
				if err != nil {
					return nil, Errorf(KindInvalidParameter, "Could not parse metadata: an X509Certificate is not base64.")
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					return nil, Errorf(KindInvalidParameter, "Could not parse metadata: an X509Certificate is not a certificate: %s", ClipTo(err.Error(), 200))
				}
				md.Certificates = append(md.Certificates, cert)
			}
		}
	}
	if len(md.Certificates) == 0 {
		return nil, Errorf(KindInvalidParameter, "Could not parse metadata: the IDPSSODescriptor has no signing certificate.")
	}
	return md, nil
}
