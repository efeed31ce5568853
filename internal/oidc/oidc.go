// Package oidc serves fedid's OpenID Connect discovery document and JWKS,
// so that anyone can verify the tokens fedid mints (spec 5.5).
//
// AWS STS accepts an external OIDC provider when its issuer is an https
// URL whose /.well-known/openid-configuration names a jwks_uri; fedid
// serves both under the configured issuer, so an https issuer that reaches
// fedid satisfies it.
package oidc

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Keys is what the handler needs of the key manager.
type Keys interface {
	JWKS() []byte
	MaxAge() time.Duration
}

// discoveryMaxAge is how long the discovery document may be cached: it
// only changes when the operator changes the issuer.
const discoveryMaxAge = time.Hour

// NewHandler serves GET (and HEAD) /.well-known/openid-configuration,
// /.well-known/jwks_uri (the real service's path) and /.well-known/jwks.json.
func NewHandler(issuer string, keys Keys) http.Handler {
	doc, _ := json.Marshal(struct {
		Issuer        string   `json:"issuer"`
		JWKSURI       string   `json:"jwks_uri"`
		ResponseTypes []string `json:"response_types_supported"`
		SubjectTypes  []string `json:"subject_types_supported"`
		Algs          []string `json:"id_token_signing_alg_values_supported"`
		Claims        []string `json:"claims_supported"`
	}{
		Issuer:        issuer,
		JWKSURI:       issuer + "/.well-known/jwks_uri",
		ResponseTypes: []string{"id_token"},
		SubjectTypes:  []string{"public"},
		Algs:          []string{"RS512"},
		Claims:        []string{"sub", "aud", "amr", "iss", "exp", "iat"},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, doc, discoveryMaxAge)
	})
	jwks := func(w http.ResponseWriter, r *http.Request) { serve(w, r, keys.JWKS(), keys.MaxAge()) }
	mux.HandleFunc("/.well-known/jwks_uri", jwks)
	mux.HandleFunc("/.well-known/jwks.json", jwks)
	return mux
}

func serve(w http.ResponseWriter, r *http.Request, body []byte, maxAge time.Duration) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAge.Seconds())))
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}
