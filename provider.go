package fedid

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// IAM's limits on an OpenID Connect provider's registration.
const (
	MaxProviderClientIDs   = 100
	MaxProviderThumbprints = 5
)

var (
	reProviderClientID   = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)
	reProviderThumbprint = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
)

// NewOIDCProvider validates an OpenID Connect provider's registration with
// IAM's rules and returns it, named by its ARN: an https issuer URL (http
// too, for local tests) without query or fragment, at most 100 client IDs
// of 1-255 printable characters and 5 thumbprints of 40 hex digits. The
// one validator of provider input: the IAM API, the providers file and
// the command line all come through it. Errors are *Error of kind
// InvalidParameter or LimitExceeded; values quoted are clipped.
func NewOIDCProvider(account, issuerURL string, clientIDs, thumbprints []string, now time.Time) (OIDCProvider, error) {
	u, err := url.Parse(issuerURL)
	if issuerURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return OIDCProvider{}, Errorf(KindInvalidParameter, "Url %q must be an https URL without query or fragment.", Clip(issuerURL))
	}
	if len(clientIDs) > MaxProviderClientIDs || len(thumbprints) > MaxProviderThumbprints {
		return OIDCProvider{}, Errorf(KindLimitExceeded, "At most %d client IDs and %d thumbprints.", MaxProviderClientIDs, MaxProviderThumbprints)
	}
	for _, c := range clientIDs {
		if !reProviderClientID.MatchString(c) {
			return OIDCProvider{}, Errorf(KindInvalidParameter, "Client ID %q must be 1-255 printable characters.", Clip(c))
		}
	}
	for _, t := range thumbprints {
		if !reProviderThumbprint.MatchString(t) {
			return OIDCProvider{}, Errorf(KindInvalidParameter, "Thumbprint %q must be 40 hexadecimal digits.", Clip(t))
		}
	}
	issuer := strings.TrimSuffix(issuerURL, "/")
	return OIDCProvider{ARN: OIDCProviderARN(account, issuer), Account: account, URL: issuer,
		ClientIDs: clientIDs, Thumbprints: thumbprints, CreatedAt: now.UTC()}, nil
}

// CheckPinnedKeys checks keys pinned for a provider registered from a file
// or the command line (the providers file, --init, `fedid oidc-providers
// add --jwks-file`): a JSON Web Key Set with at least one key.
func CheckPinnedKeys(jwks []byte) error {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &doc); err != nil || len(doc.Keys) == 0 {
		return errors.New("is not a JSON Web Key Set with keys")
	}
	return nil
}
