// Package codec is the storage form of a pool's configuration, one JSON
// document shared by every backend so that nil and empty members and the
// AllowClassicFlow tri-state round-trip identically everywhere.
package codec

import (
	"encoding/json"
	"fmt"

	"github.com/fedid/fedid"
)

// poolConfig is the JSON document of a pool's configuration.
type poolConfig struct {
	AllowUnauthenticated      bool                    `json:"allowUnauthenticated"`
	AllowClassicFlow          *bool                   `json:"allowClassicFlow,omitempty"`
	SupportedLoginProviders   map[string]string       `json:"supportedLoginProviders,omitempty"`
	DeveloperProviderName     string                  `json:"developerProviderName,omitempty"`
	OpenIDConnectProviderARNs []string                `json:"oidcProviderARNs,omitempty"`
	CognitoIdentityProviders  []fedid.CognitoProvider `json:"cognitoIdentityProviders,omitempty"`
	SAMLProviderARNs          []string                `json:"samlProviderARNs,omitempty"`
	Tags                      map[string]string       `json:"tags,omitempty"`
	Roles                     map[string]string       `json:"roles,omitempty"`
	Extra                     map[string][]byte       `json:"extra,omitempty"`
	// Empty records which maps and lists were stored empty rather than
	// absent, so nil and empty round-trip exactly.
	Empty []string `json:"empty,omitempty"`
}

// EncodePool renders a pool's configuration as its JSON document.
func EncodePool(p *fedid.Pool) (string, error) {
	c := poolConfig{
		AllowUnauthenticated: p.AllowUnauthenticated, AllowClassicFlow: p.AllowClassicFlow,
		SupportedLoginProviders: p.SupportedLoginProviders, DeveloperProviderName: p.DeveloperProviderName,
		OpenIDConnectProviderARNs: p.OpenIDConnectProviderARNs, CognitoIdentityProviders: p.CognitoIdentityProviders,
		SAMLProviderARNs: p.SAMLProviderARNs, Tags: p.Tags, Roles: p.Roles, Extra: p.Extra,
	}
	empty := func(name string, isEmpty bool) {
		if isEmpty {
			c.Empty = append(c.Empty, name)
		}
	}
	empty("supportedLoginProviders", p.SupportedLoginProviders != nil && len(p.SupportedLoginProviders) == 0)
	empty("oidcProviderARNs", p.OpenIDConnectProviderARNs != nil && len(p.OpenIDConnectProviderARNs) == 0)
	empty("cognitoIdentityProviders", p.CognitoIdentityProviders != nil && len(p.CognitoIdentityProviders) == 0)
	empty("samlProviderARNs", p.SAMLProviderARNs != nil && len(p.SAMLProviderARNs) == 0)
	empty("tags", p.Tags != nil && len(p.Tags) == 0)
	empty("roles", p.Roles != nil && len(p.Roles) == 0)
	empty("extra", p.Extra != nil && len(p.Extra) == 0)
	b, err := json.Marshal(c)
	return string(b), err
}

// DecodePool fills a pool's configuration from its JSON document.
func DecodePool(p *fedid.Pool, doc string) error {
	var c poolConfig
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		return fmt.Errorf("codec: pool %s config: %w", p.ID, err)
	}
	for _, e := range c.Empty {
		switch e {
		case "supportedLoginProviders":
			c.SupportedLoginProviders = map[string]string{}
		case "oidcProviderARNs":
			c.OpenIDConnectProviderARNs = []string{}
		case "cognitoIdentityProviders":
			c.CognitoIdentityProviders = []fedid.CognitoProvider{}
		case "samlProviderARNs":
			c.SAMLProviderARNs = []string{}
		case "tags":
			c.Tags = map[string]string{}
		case "roles":
			c.Roles = map[string]string{}
		case "extra":
			c.Extra = map[string][]byte{}
		}
	}
	p.AllowUnauthenticated, p.AllowClassicFlow = c.AllowUnauthenticated, c.AllowClassicFlow
	p.SupportedLoginProviders, p.DeveloperProviderName = c.SupportedLoginProviders, c.DeveloperProviderName
	p.OpenIDConnectProviderARNs, p.CognitoIdentityProviders = c.OpenIDConnectProviderARNs, c.CognitoIdentityProviders
	p.SAMLProviderARNs, p.Tags, p.Roles, p.Extra = c.SAMLProviderARNs, c.Tags, c.Roles, c.Extra
	return nil
}

// providerConfig is the JSON document of an OIDC provider's settings.
type providerConfig struct {
	ClientIDs   []string `json:"clientIds,omitempty"`
	Thumbprints []string `json:"thumbprints,omitempty"`
	JWKSURL     string   `json:"jwksUrl,omitempty"`
	JWKS        string   `json:"jwks,omitempty"`
}

// EncodeOIDCProvider renders a provider's settings as its JSON document.
func EncodeOIDCProvider(p *fedid.OIDCProvider) (string, error) {
	b, err := json.Marshal(providerConfig{ClientIDs: p.ClientIDs, Thumbprints: p.Thumbprints, JWKSURL: p.JWKSURL, JWKS: string(p.JWKS)})
	return string(b), err
}

// DecodeOIDCProvider fills a provider's settings from its JSON document.
func DecodeOIDCProvider(p *fedid.OIDCProvider, doc string) error {
	var c providerConfig
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		return fmt.Errorf("codec: OIDC provider %s: %w", p.ARN, err)
	}
	p.ClientIDs, p.Thumbprints, p.JWKSURL = c.ClientIDs, c.Thumbprints, c.JWKSURL
	if c.JWKS != "" {
		p.JWKS = []byte(c.JWKS)
	}
	return nil
}

// ReplaceKeys makes a stored key set equal to next: put writes (inserts or
// updates) every key of next, del removes the keys of old that next drops.
// Backends call it inside the transaction of UpdateSigningKeys.
func ReplaceKeys(old, next []fedid.SigningKey, put func(fedid.SigningKey) error, del func(id string) error) error {
	keep := make(map[string]bool, len(next))
	for _, k := range next {
		keep[k.ID] = true
		if err := put(k); err != nil {
			return err
		}
	}
	for _, k := range old {
		if !keep[k.ID] {
			if err := del(k.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
