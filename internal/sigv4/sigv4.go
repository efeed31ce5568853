// Package sigv4 verifies AWS Signature Version 4 on incoming requests
// (the Authorization header form), as AWS services do: the canonical
// request is rebuilt from what arrived, the payload hash is computed from
// the body, the signature is compared in constant time, and the request
// time may differ from the server's by at most 15 minutes.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fedid/fedid"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxSkew is the largest accepted difference between the request time and
// the server's clock.
const MaxSkew = 15 * time.Minute

const (
	amzDateFormat = "20060102T150405Z"
	scopeDateLen  = 8
	terminator    = "aws4_request"
)

// SecretLookup returns the credential of an access key ID, or an error
// wrapping fedid.ErrNotFound when the key is unknown (or expired).
type SecretLookup func(ctx context.Context, accessKeyID string) (*fedid.Credential, error)

// Verifier checks SigV4 signatures for one service.
type Verifier struct {
	service string
	lookup  SecretLookup
	clock   fedid.Clock

	mu   sync.RWMutex
	keys map[string]*derivedKey
}

// derivedKey caches a signing key; the secret it came from is kept to
// notice a changed secret. macs holds HMAC-SHA256 states keyed with it,
// reused from one request to the next.
type derivedKey struct {
	secret string
	key    []byte
	macs   sync.Pool
}

// sign returns the HMAC-SHA256 of data under the key.
func (dk *derivedKey) sign(data []byte) (out [sha256.Size]byte) {
	m, _ := dk.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, dk.key)
	}
	m.Reset()
	m.Write(data)
	m.Sum(out[:0])
	dk.macs.Put(m)
	return out
}

// bufs are scratch buffers for canonical requests and strings to sign.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxCachedKeys bounds the derived-key cache; past it the cache starts
// over (keys are derived per access key, day and region, so a working set
// is small).
const maxCachedKeys = 4096

// NewVerifier returns a verifier for the service's signing name.
func NewVerifier(service string, lookup SecretLookup, clock fedid.Clock) *Verifier {
	if clock == nil {
		clock = fedid.SystemClock{}
	}
	return &Verifier{service: service, lookup: lookup, clock: clock, keys: map[string]*derivedKey{}}
}

// Authorization is a parsed Authorization header.
type Authorization struct {
	AccessKeyID   string
	Date          string // YYYYMMDD of the scope
	Region        string
	Service       string
	Terminator    string
	SignedHeaders []string
	Signature     string
}

// Scope is the credential scope "<date>/<region>/<service>/aws4_request".
func (a *Authorization) Scope() string { return string(a.appendScope(nil)) }

func (a *Authorization) appendScope(b []byte) []byte {
	b = append(b, a.Date...)
	b = append(b, '/')
	b = append(b, a.Region...)
	b = append(b, '/')
	b = append(b, a.Service...)
	b = append(b, '/')
	return append(b, a.Terminator...)
}

func incomplete(format string, args ...any) error {
	return fedid.Errorf(fedid.KindIncompleteSignature, format, args...)
}

func invalid(format string, args ...any) error {
	return fedid.Errorf(fedid.KindInvalidSignature, format, args...)
}

// ParseAuthorization parses the value of an Authorization header of the
// form "AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request,
// SignedHeaders=<h1;h2>, Signature=<hex>".
func ParseAuthorization(h string) (*Authorization, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != Algorithm {
		return nil, incomplete("Authorization header requires the %s algorithm.", Algorithm)
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for more := true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			cred, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			sig, haveSig = v, true
		}
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return nil, incomplete("%s", strings.Join(missing, " "))
	}
	var parts [5]string
	n, left, more := 0, cred, true
	for ; more && n < len(parts); n++ {
		parts[n], left, more = strings.Cut(left, "/")
	}
	if more || n != len(parts) || parts[0] == "" {
		return nil, incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", redactCred(cred))
	}
	a := &Authorization{
		AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3], Terminator: parts[4],
		Signature: sig,
	}
	if signed == "" {
		return nil, incomplete("Authorization header requires 'SignedHeaders' parameter.")
	}
	a.SignedHeaders = strings.Split(signed, ";")
	for _, name := range a.SignedHeaders {
		if name == "" || name != strings.ToLower(name) {
			return nil, incomplete("SignedHeaders must be lowercase header names separated by ';'.")
		}
	}
	if len(sig) != 64 || !isHex(sig) {
		return nil, incomplete("Signature must be 64 lowercase hexadecimal characters.")
	}
	return a, nil
}

func redactCred(c string) string {
	if len(c) > 256 {
		return c[:256] + "..."
	}
	return c
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Verify checks r's signature against body (the whole request body, which
// the caller has already read) and returns the caller.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (fedid.Caller, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if r.URL.Query().Get("X-Amz-Algorithm") != "" {
			return fedid.Caller{}, incomplete("Query-string (presigned) authentication is not supported; sign the Authorization header.")
		}
		return fedid.Caller{}, fedid.Errorf(fedid.KindMissingAuthenticationToken, "Request is missing Authentication Token")
	}
	a, err := ParseAuthorization(h)
	if err != nil {
		return fedid.Caller{}, err
	}
	if a.Terminator != terminator {
		return fedid.Caller{}, incomplete("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", a.Terminator)
	}
	if a.Service != v.service {
		return fedid.Caller{}, invalid("Credential should be scoped to correct service: '%s'. ", v.service)
	}
	if a.Region == "" {
		return fedid.Caller{}, incomplete("Credential should be scoped to a valid region, not ''. ")
	}
	if !hasHost(a.SignedHeaders) {
		return fedid.Caller{}, incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if name := unsignedAmzHeader(r.Header, a.SignedHeaders); name != "" {
		// Otherwise a captured request could be replayed with another
		// X-Amz-Target, as another operation, under the same signature.
		return fedid.Caller{}, incomplete("'%s' must be a 'SignedHeader' in the AWS Authorization.", fedid.ClipTo(name, 64))
	}
	amzDate, t, err := requestTime(r)
	if err != nil {
		return fedid.Caller{}, err
	}
	now := v.clock.Now().UTC()
	if t.Before(now.Add(-MaxSkew)) {
		return fedid.Caller{}, invalid("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now.Add(-MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	if t.After(now.Add(MaxSkew)) {
		return fedid.Caller{}, invalid("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amzDate, now.Add(MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	if a.Date != amzDate[:scopeDateLen] {
		return fedid.Caller{}, invalid("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			a.Date, amzDate[:scopeDateLen], amzDate)
	}
	sum := sha256.Sum256(body)
	var hashHex [2 * sha256.Size]byte
	hex.Encode(hashHex[:], sum[:])
	payloadHash := hashHex[:]
	if ch := r.Header.Get("X-Amz-Content-Sha256"); ch != "" && ch != "UNSIGNED-PAYLOAD" && ch != string(payloadHash) {
		return fedid.Caller{}, invalid("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	cred, err := v.lookup(ctx, a.AccessKeyID)
	if errors.Is(err, fedid.ErrNotFound) {
		return fedid.Caller{}, errUnrecognized
	}
	if err != nil {
		return fedid.Caller{}, fedid.Internal("look up access key", err)
	}
	if cred.TokenHash != nil {
		// Temporary credentials: the session token must be the one issued
		// with them (and signed, as the SDKs do).
		tok := sha256.Sum256([]byte(r.Header.Get("X-Amz-Security-Token")))
		if subtle.ConstantTimeCompare(tok[:], cred.TokenHash) != 1 || !signsHeader(a.SignedHeaders, "x-amz-security-token") {
			return fedid.Caller{}, errUnrecognized
		}
	}
	bp := bufs.Get().(*[]byte)
	var sb [128]byte
	cr := appendCanonicalRequest((*bp)[:0], r, a.SignedHeaders, payloadHash)
	sts := appendStringToSign(cr[:0], amzDate, a.appendScope(sb[:0]), sha256.Sum256(cr))
	want := v.signingKey(a, cred.Secret).sign(sts)
	*bp = sts
	bufs.Put(bp)
	var got [sha256.Size]byte
	_, err = hex.Decode(got[:], []byte(a.Signature))
	if err != nil || subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return fedid.Caller{}, invalid("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	if cred.Verified != nil {
		cred.Verified()
	}
	return fedid.Caller{AccessKeyID: a.AccessKeyID, Account: cred.Account, Region: a.Region, ARN: cred.ARN, Session: cred.TokenHash != nil}, nil
}

var errUnrecognized = fedid.Errorf(fedid.KindUnrecognizedClient, "The security token included in the request is invalid.")

func signsHeader(signed []string, name string) bool {
	for _, h := range signed {
		if h == name {
			return true
		}
	}
	return false
}

// unsignedAmzHeader returns the lowercase name of an X-Amz-* header the
// request carries but its signature does not cover, or "". Every SDK signs
// all of them (they exclude only User-Agent, Expect, X-Amzn-Trace-Id and
// hop-by-hop headers), so a gap means an altered request.
func unsignedAmzHeader(h http.Header, signed []string) string {
	for name := range h {
		if len(name) < len("x-amz-") || !strings.EqualFold(name[:len("x-amz-")], "x-amz-") {
			continue
		}
		lower := strings.ToLower(name)
		if !signsHeader(signed, lower) {
			return lower
		}
	}
	return ""
}

func hasHost(signed []string) bool {
	for _, h := range signed {
		if h == "host" || h == ":authority" {
			return true
		}
	}
	return false
}

// requestTime reads X-Amz-Date, or failing that the Date header.
func requestTime(r *http.Request) (string, time.Time, error) {
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		t, err := time.Parse(amzDateFormat, d)
		if err != nil {
			return "", time.Time{}, incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", fedid.ClipTo(d, 64))
		}
		return d, t, nil
	}
	if d := r.Header.Get("Date"); d != "" {
		t, err := http.ParseTime(d)
		if err != nil {
			return "", time.Time{}, incomplete("Date header is not a valid HTTP date: '%s'.", fedid.ClipTo(d, 64))
		}
		return t.UTC().Format(amzDateFormat), t.UTC(), nil
	}
	return "", time.Time{}, incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}

// signingKey derives (or takes from the cache) the key for the scope.
func (v *Verifier) signingKey(a *Authorization, secret string) *derivedKey {
	var kb [128]byte
	k := append(append(append(append(append(kb[:0], a.AccessKeyID...), 0), a.Date...), 0), a.Region...)
	v.mu.RLock()
	dk, ok := v.keys[string(k)] // no allocation for the lookup
	v.mu.RUnlock()
	if ok && dk.secret == secret {
		return dk
	}
	dk = &derivedKey{secret: secret, key: DeriveKey(secret, a.Date, a.Region, v.service)}
	v.mu.Lock()
	if len(v.keys) >= maxCachedKeys {
		v.keys = make(map[string]*derivedKey, maxCachedKeys)
	}
	v.keys[string(k)] = dk
	v.mu.Unlock()
	return dk
}
