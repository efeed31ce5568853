package server

import (
	"net/http"
	"strings"
)

// Security header values (shared slices, as the CORS ones: net/http only
// reads them, and the hot path allocates nothing for them).
var (
	noSniff    = []string{"nosniff"}
	noStore    = []string{"no-store"}
	noReferrer = []string{"no-referrer"}
	// A year, the usual value; without includeSubDomains, which would
	// commit every other host of the domain to HTTPS too.
	hsts = []string{"max-age=31536000"}
)

// securityHeaders sets the headers every response carries. API answers
// hold identities, tokens and credentials, which no cache may keep
// (no-store); the discovery document and the JWKS are public and set their
// own max-age. HSTS is only meaningful over TLS (browsers ignore it on plain
// HTTP) and only sent there. None of these touch the CORS headers.
func securityHeaders(h http.Header, r *http.Request) {
	h["X-Content-Type-Options"] = noSniff
	h["Referrer-Policy"] = noReferrer
	if !strings.HasPrefix(r.URL.Path, "/.well-known/") {
		h["Cache-Control"] = noStore
	}
	if r.TLS != nil {
		h["Strict-Transport-Security"] = hsts
	}
}
