package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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

// Provider validates the spec and builds the provider.
func (s ProviderSpec) Provider(now time.Time) (fedid.OIDCProvider, error) {
	if s.Account == "" {
		s.Account = fedid.DefaultAccountID
	}
	if err := checkAccount(s.Account); err != nil {
		return fedid.OIDCProvider{}, err
	}
	if len(s.ClientIDs) == 0 {
		// IAM allows none, to add later; fedid has no call to add them,
		// and a provider without an audience accepts no token.
		return fedid.OIDCProvider{}, errors.New("at least one client ID (audience) is required")
	}
	p, err := fedid.NewOIDCProvider(s.Account, s.URL, s.ClientIDs, s.Thumbprints, now)
	if err != nil {
		return fedid.OIDCProvider{}, errors.New(fedid.ErrorMessage(err))
	}
	p.JWKSURL = s.JWKSURL
	if s.JWKSFile != "" {
		b, err := os.ReadFile(s.JWKSFile)
		if err != nil {
			return fedid.OIDCProvider{}, fmt.Errorf("jwks file: %w", err)
		}
		if err := fedid.CheckPinnedKeys(b); err != nil {
			return fedid.OIDCProvider{}, fmt.Errorf("jwks file %s %w", s.JWKSFile, err)
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
