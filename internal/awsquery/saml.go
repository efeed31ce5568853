package awsquery

import (
	"context"
	"encoding/xml"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fedid/fedid"
)

// SAMLProviderStore is what the IAM SAML provider calls need of the store.
type SAMLProviderStore interface {
	PutSAMLProvider(ctx context.Context, p fedid.SAMLProvider) error
	GetSAMLProvider(ctx context.Context, arn string) (*fedid.SAMLProvider, error)
	ListSAMLProviders(ctx context.Context, account string) ([]fedid.SAMLProvider, error)
	DeleteSAMLProvider(ctx context.Context, arn string) error
}

const iamDate = "2006-01-02T15:04:05.000Z"

// samlErr turns fedid.NewSAMLProvider's errors into IAM's.
func samlErr(err error) error {
	switch fedid.ErrorKind(err) {
	case fedid.KindValidation:
		return queryErr(400, "ValidationError", "%s", fedid.ErrorMessage(err))
	case fedid.KindInvalidParameter:
		return queryErr(400, "InvalidInput", "%s", fedid.ErrorMessage(err))
	}
	return err
}

// refuseEncryption: fedid does not decrypt assertions, so it takes no
// private key and no Required encryption mode.
func refuseEncryption(form url.Values) error {
	if form.Get("AddPrivateKey") != "" || form.Get("RemovePrivateKey") != "" {
		return queryErr(400, "InvalidInput", "fedid does not decrypt SAML assertions: private keys are not supported.")
	}
	switch form.Get("AssertionEncryptionMode") {
	case "", "Allowed":
		return nil
	case "Required":
		return queryErr(400, "InvalidInput", "fedid does not decrypt SAML assertions: AssertionEncryptionMode Required is not supported.")
	default:
		return queryErr(400, "ValidationError", "1 validation error detected: Value '%s' at 'assertionEncryptionMode' failed to satisfy constraint: Member must satisfy enum value set: [Required, Allowed]",
			fedid.ClipTo(form.Get("AssertionEncryptionMode"), 64))
	}
}

type createSAMLResponse struct {
	XMLName xml.Name `xml:"CreateSAMLProviderResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Arn     string   `xml:"CreateSAMLProviderResult>SAMLProviderArn"`
}

// createSAML registers a SAML provider of the caller's account, with IAM's
// rules (fedid.NewSAMLProvider). Tags are not stored.
func (h *Handler) createSAML(ctx context.Context, c fedid.Caller, form url.Values) (any, error) {
	if err := refuseEncryption(form); err != nil {
		return nil, err
	}
	p, err := fedid.NewSAMLProvider(c.Account, form.Get("Name"), form.Get("SAMLMetadataDocument"), h.now())
	if err != nil {
		return nil, samlErr(err)
	}
	if _, err := h.Providers.GetSAMLProvider(ctx, p.ARN); err == nil {
		return nil, queryErr(409, "EntityAlreadyExists", "SAMLProvider %s already exists.", p.Name)
	} else if !errors.Is(err, fedid.ErrNotFound) {
		return nil, err
	}
	if err := h.Providers.PutSAMLProvider(ctx, p); err != nil {
		return nil, err
	}
	return createSAMLResponse{Xmlns: iamNS, Arn: p.ARN}, nil
}

// ownSAML reads a SAML provider by ARN; other accounts' look missing.
func (h *Handler) ownSAML(ctx context.Context, c fedid.Caller, arn string) (*fedid.SAMLProvider, error) {
	if arn == "" {
		return nil, queryErr(400, "ValidationError", "1 validation error detected: Value null at 'sAMLProviderArn' failed to satisfy constraint: Member must not be null")
	}
	if !strings.HasPrefix(arn, "arn:aws:iam::"+c.Account+":saml-provider/") {
		if !strings.Contains(arn, ":saml-provider/") {
			return nil, queryErr(400, "InvalidInput", "ARN %s is not a SAML provider ARN.", fedid.ClipTo(arn, 256))
		}
		return nil, queryErr(404, "NoSuchEntity", "SAMLProvider not found for arn %s", fedid.ClipTo(arn, 256))
	}
	p, err := h.Providers.GetSAMLProvider(ctx, arn)
	if errors.Is(err, fedid.ErrNotFound) {
		return nil, queryErr(404, "NoSuchEntity", "SAMLProvider not found for arn %s", fedid.ClipTo(arn, 256))
	}
	return p, err
}

type getSAMLResponse struct {
	XMLName xml.Name `xml:"GetSAMLProviderResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		SAMLProviderUUID        string `xml:"SAMLProviderUUID"`
		SAMLMetadataDocument    string `xml:"SAMLMetadataDocument"`
		CreateDate              string `xml:"CreateDate"`
		ValidUntil              string `xml:"ValidUntil,omitempty"`
		AssertionEncryptionMode string `xml:"AssertionEncryptionMode"`
	} `xml:"GetSAMLProviderResult"`
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(iamDate)
}

// samlUUID is a stable UUID for a provider (IAM's SAMLProviderUUID).
func samlUUID(arn string) string { return uuid.NewSHA1(uuid.NameSpaceURL, []byte(arn)).String() }

func (h *Handler) getSAML(ctx context.Context, c fedid.Caller, form url.Values) (any, error) {
	p, err := h.ownSAML(ctx, c, form.Get("SAMLProviderArn"))
	if err != nil {
		return nil, err
	}
	out := getSAMLResponse{Xmlns: iamNS}
	out.Result.SAMLProviderUUID = samlUUID(p.ARN)
	out.Result.SAMLMetadataDocument = p.Metadata
	out.Result.CreateDate = date(p.CreatedAt)
	out.Result.ValidUntil = date(p.ValidUntil)
	out.Result.AssertionEncryptionMode = "Allowed"
	return out, nil
}

type samlListEntry struct {
	Arn        string `xml:"Arn"`
	ValidUntil string `xml:"ValidUntil,omitempty"`
	CreateDate string `xml:"CreateDate"`
}

type listSAMLResponse struct {
	XMLName xml.Name        `xml:"ListSAMLProvidersResponse"`
	Xmlns   string          `xml:"xmlns,attr"`
	List    []samlListEntry `xml:"ListSAMLProvidersResult>SAMLProviderList>member"`
}

func (h *Handler) listSAML(ctx context.Context, c fedid.Caller, _ url.Values) (any, error) {
	ps, err := h.Providers.ListSAMLProviders(ctx, c.Account) // by ARN
	if err != nil {
		return nil, err
	}
	out := listSAMLResponse{Xmlns: iamNS}
	for _, p := range ps {
		out.List = append(out.List, samlListEntry{Arn: p.ARN, ValidUntil: date(p.ValidUntil), CreateDate: date(p.CreatedAt)})
	}
	return out, nil
}

type updateSAMLResponse struct {
	XMLName xml.Name `xml:"UpdateSAMLProviderResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Arn     string   `xml:"UpdateSAMLProviderResult>SAMLProviderArn"`
}

// updateSAML replaces a provider's metadata document; its creation date
// stays.
func (h *Handler) updateSAML(ctx context.Context, c fedid.Caller, form url.Values) (any, error) {
	p, err := h.ownSAML(ctx, c, form.Get("SAMLProviderArn"))
	if err != nil {
		return nil, err
	}
	if err := refuseEncryption(form); err != nil {
		return nil, err
	}
	if _, ok := form["SAMLMetadataDocument"]; ok {
		np, err := fedid.NewSAMLProvider(p.Account, p.Name, form.Get("SAMLMetadataDocument"), p.CreatedAt)
		if err != nil {
			return nil, samlErr(err)
		}
		if err := h.Providers.PutSAMLProvider(ctx, np); err != nil {
			return nil, err
		}
	}
	return updateSAMLResponse{Xmlns: iamNS, Arn: p.ARN}, nil
}

type deleteSAMLResponse struct {
	XMLName xml.Name `xml:"DeleteSAMLProviderResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
}

func (h *Handler) deleteSAML(ctx context.Context, c fedid.Caller, form url.Values) (any, error) {
	p, err := h.ownSAML(ctx, c, form.Get("SAMLProviderArn"))
	if err != nil {
		return nil, err
	}
	if err := h.Providers.DeleteSAMLProvider(ctx, p.ARN); err != nil && !errors.Is(err, fedid.ErrNotFound) {
		return nil, err
	}
	return deleteSAMLResponse{Xmlns: iamNS}, nil
}
