package awsquery

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/fedid/fedid"
)

// ProviderStore is what the IAM calls need of the store.
type ProviderStore interface {
	PutOIDCProvider(ctx context.Context, p fedid.OIDCProvider) error
	GetOIDCProvider(ctx context.Context, arn string) (*fedid.OIDCProvider, error)
	ListOIDCProviders(ctx context.Context, account string) ([]fedid.OIDCProvider, error)
	DeleteOIDCProvider(ctx context.Context, arn string) error
	SAMLProviderStore // saml.go
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// members reads a query list parameter: Name.member.1, Name.member.2, …
func members(form url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[name+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

type createProviderResponse struct {
	XMLName xml.Name `xml:"CreateOpenIDConnectProviderResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Arn     string   `xml:"CreateOpenIDConnectProviderResult>OpenIDConnectProviderArn"`
}

// createProvider registers an OIDC provider of the caller's account, with
// IAM's rules (fedid.NewOIDCProvider).
func (h *Handler) createProvider(ctx context.Context, c fedid.Caller, form url.Values) (any, error) {
	p, err := fedid.NewOIDCProvider(c.Account, form.Get("Url"), members(form, "ClientIDList"), members(form, "ThumbprintList"), h.now())
	switch fedid.ErrorKind(err) {
	case fedid.KindInvalidParameter:
		return nil, queryErr(400, "InvalidInput", "%s", fedid.ErrorMessage(err))
	case fedid.KindLimitExceeded:
		return nil, queryErr(400, "LimitExceeded", "%s", fedid.ErrorMessage(err))
	}
	arn := p.ARN
	if _, err := h.Providers.GetOIDCProvider(ctx, arn); err == nil {
		return nil, queryErr(409, "EntityAlreadyExists", "Provider with url %s already exists.", p.URL)
	} else if !errors.Is(err, fedid.ErrNotFound) {
		return nil, err
	}
	if err := h.Providers.PutOIDCProvider(ctx, p); err != nil {
		return nil, err
	}
	return createProviderResponse{Xmlns: iamNS, Arn: arn}, nil
}

// ownProvider reads a provider by ARN; other accounts' look missing.
func (h *Handler) ownProvider(ctx context.Context, c fedid.Caller, arn string) (*fedid.OIDCProvider, error) {
	if !strings.HasPrefix(arn, "arn:aws:iam::"+c.Account+":oidc-provider/") {
		if !strings.Contains(arn, ":oidc-provider/") {
			return nil, queryErr(400, "InvalidInput", "ARN %s is not an OpenID Connect provider ARN.", fedid.ClipTo(arn, 256))
		}
		return nil, queryErr(404, "NoSuchEntity", "OpenIDConnect Provider not found for arn %s", fedid.ClipTo(arn, 256))
	}
	p, err := h.Providers.GetOIDCProvider(ctx, arn)
	if errors.Is(err, fedid.ErrNotFound) {
		return nil, queryErr(404, "NoSuchEntity", "OpenIDConnect Provider not found for arn %s", fedid.ClipTo(arn, 256))
	}
	return p, err
}

type memberList struct {
	Member []string `xml:"member"`
}

type getProviderResponse struct {
	XMLName xml.Name `xml:"GetOpenIDConnectProviderResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		ThumbprintList memberList `xml:"ThumbprintList"`
		CreateDate     string     `xml:"CreateDate"`
		ClientIDList   memberList `xml:"ClientIDList"`
		URL            string     `xml:"Url"`
	} `xml:"GetOpenIDConnectProviderResult"`
}

func (h *Handler) getProvider(ctx context.Context, c fedid.Caller, form url.Values) (any, error) {
	p, err := h.ownProvider(ctx, c, form.Get("OpenIDConnectProviderArn"))
	if err != nil {
		return nil, err
	}
	var out getProviderResponse
	out.Xmlns = iamNS
	out.Result.ThumbprintList.Member = p.Thumbprints
	out.Result.ClientIDList.Member = p.ClientIDs
	out.Result.CreateDate = p.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")
	out.Result.URL = p.Name()
	return out, nil
}

type listProvidersResponse struct {
	XMLName xml.Name `xml:"ListOpenIDConnectProvidersResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	List    []struct {
		Arn string `xml:"Arn"`
	} `xml:"ListOpenIDConnectProvidersResult>OpenIDConnectProviderList>member"`
}

func (h *Handler) listProviders(ctx context.Context, c fedid.Caller, _ url.Values) (any, error) {
	ps, err := h.Providers.ListOIDCProviders(ctx, c.Account)
	if err != nil {
		return nil, err
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].ARN < ps[j].ARN })
	out := listProvidersResponse{Xmlns: iamNS}
	for _, p := range ps {
		out.List = append(out.List, struct {
			Arn string `xml:"Arn"`
		}{p.ARN})
	}
	return out, nil
}

type deleteProviderResponse struct {
	XMLName xml.Name `xml:"DeleteOpenIDConnectProviderResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
}

func (h *Handler) deleteProvider(ctx context.Context, c fedid.Caller, form url.Values) (any, error) {
	p, err := h.ownProvider(ctx, c, form.Get("OpenIDConnectProviderArn"))
	if err != nil {
		return nil, err
	}
	if err := h.Providers.DeleteOIDCProvider(ctx, p.ARN); err != nil && !errors.Is(err, fedid.ErrNotFound) {
		return nil, err
	}
	return deleteProviderResponse{Xmlns: iamNS}, nil
}
