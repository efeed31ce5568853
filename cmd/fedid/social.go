package main

import (
	"fmt"
	"strings"

	"github.com/fedid/fedid/internal/federation"
)

// parseProviderEndpoints reads --provider-endpoints: comma-separated
// provider=URL pairs naming where fedid asks about the access tokens of
// graph.facebook.com, www.amazon.com and api.twitter.com.
func parseProviderEndpoints(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		name, u, ok := strings.Cut(pair, "=")
		if !ok || name == "" || u == "" {
			return nil, fmt.Errorf("serve: --provider-endpoints: %q is not provider=URL", pair)
		}
		out[name] = u
	}
	if err := federation.CheckProviderEndpoints(out); err != nil {
		return nil, fmt.Errorf("serve: --provider-endpoints: %w", err)
	}
	return out, nil
}
