package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/fedid/fedid"
)

// ProviderSpec describes an OIDC provider to register, from the command
// line or the providers file.
type ProviderSpec struct {
	Account     string   `json:"account"`
	URL         string   `json:"url"`
	ClientIDs   []string `json:"clientIds"`
	Thumbprints []string `json:"thumbprints,omitempty"`
	JWKSURL     string   `json:"jwksUrl,omitempty"`
	JWKSFile    string   `json:"jwksFile,omitempty"`
}

var reClientID = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

// Provider validates the spec and builds the provider.
func (s ProviderSpec) Provider(now time.Time) (fedid.OIDCProvider, error) {
	if s.Account == "" {
		s.Account = fedid.DefaultAccountID
	}
	if err := checkAccount(s.Account); err != nil {
		return fedid.OIDCProvider{}, err
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fedid.OIDCProvider{}, fmt.Errorf("url %q must be an https:// (or, for tests, http://) issuer URL without query or fragment", s.URL)
	}
	if len(s.ClientIDs) == 0 {
		return fedid.OIDCProvider{}, errors.New("at least one client ID (audience) is required")
	}
	for _, c := range s.ClientIDs {
		if !reClientID.MatchString(c) {
			return fedid.OIDCProvider{}, fmt.Errorf("client ID %q must be 1-255 printable characters", c)
		}
	}
	issuer := strings.TrimSuffix(s.URL, "/")
	p := fedid.OIDCProvider{
		ARN: fedid.OIDCProviderARN(s.Account, issuer), Account: s.Account, URL: issuer,
		ClientIDs: s.ClientIDs, Thumbprints: s.Thumbprints, JWKSURL: s.JWKSURL, CreatedAt: now,
	}
	if s.JWKSFile != "" {
		b, err := os.ReadFile(s.JWKSFile)
		if err != nil {
			return fedid.OIDCProvider{}, fmt.Errorf("jwks file: %w", err)
		}
		var doc struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(b, &doc); err != nil || len(doc.Keys) == 0 {
			return fedid.OIDCProvider{}, fmt.Errorf("jwks file %s is not a JSON Web Key Set with keys", s.JWKSFile)
		}
		p.JWKS = b
	}
	return p, nil
}

// LoadProviders registers the OIDC providers of a JSON file (an array of
// ProviderSpec), replacing providers of the same ARN.
func LoadProviders(ctx context.Context, st fedid.Store, path string, now time.Time) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("providers file: %w", err)
	}
	var specs []ProviderSpec
	if err := json.Unmarshal(b, &specs); err != nil {
		return 0, fmt.Errorf("providers file %s: %w", path, err)
	}
	for i, s := range specs {
		p, err := s.Provider(now)
		if err != nil {
			return 0, fmt.Errorf("providers file %s, entry %d: %w", path, i+1, err)
		}
		if err := st.PutOIDCProvider(ctx, p); err != nil {
			return 0, fmt.Errorf("providers file: %w", err)
		}
	}
	return len(specs), nil
}
