package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// The signature's parts (AWS Signature Version 4, "Create a canonical
// request", "Create a string to sign", "Calculate the signature"), each
// built by one appender that Verify uses and the exported forms call.

// DeriveKey computes the SigV4 signing key for a day, region and service.
func DeriveKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte(terminator))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

// StringToSign builds the string to sign from the request time, the scope
// and the canonical request.
func StringToSign(amzDate, scope, canonicalRequest string) string {
	return string(appendStringToSign(nil, amzDate, []byte(scope), sha256.Sum256([]byte(canonicalRequest))))
}

// appendStringToSign appends the string to sign of a canonical request
// whose SHA-256 is crSum.
func appendStringToSign(b []byte, amzDate string, scope []byte, crSum [sha256.Size]byte) []byte {
	b = append(b, Algorithm+"\n"...)
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, scope...)
	b = append(b, '\n')
	return hex.AppendEncode(b, crSum[:])
}

// CanonicalRequest builds the canonical request of r:
// method, canonical URI, canonical query string, canonical headers, signed
// headers and payload hash, one per line.
func CanonicalRequest(r *http.Request, signed []string, payloadHash string) string {
	return string(appendCanonicalRequest(nil, r, signed, []byte(payloadHash)))
}

func appendCanonicalRequest(b []byte, r *http.Request, signed []string, payloadHash []byte) []byte {
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = append(b, canonicalURI(r.URL)...)
	b = append(b, '\n')
	b = append(b, canonicalQuery(r.URL.RawQuery)...)
	b = append(b, '\n')
	for _, name := range signed {
		b = append(b, name...)
		b = append(b, ':')
		b = appendHeaderValue(b, r, name)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, name := range signed {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	b = append(b, '\n')
	return append(b, payloadHash...)
}

// canonicalURI is the path as sent, each segment URI-encoded once more
// (non-S3 services sign the encoded path encoded again).
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" || p == "/" {
		return "/"
	}
	return encode(p, false)
}

// canonicalQuery sorts the query parameters by name, then value, and
// encodes both.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var params []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		params = append(params, kv{encode(k, true), encode(v, true)})
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// encode percent-encodes every byte but the unreserved characters (and '/'
// unless encodeSlash).
func encode(s string, encodeSlash bool) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
	return b.String()
}

// appendHeaderValue appends the canonical value of a signed header: the
// values trimmed, inner runs of spaces folded, joined by commas.
func appendHeaderValue(b []byte, r *http.Request, name string) []byte {
	switch name {
	case "host", ":authority":
		return append(b, r.Host...)
	case "content-length":
		if r.Header.Get("Content-Length") == "" && r.ContentLength >= 0 {
			return strconv.AppendInt(b, r.ContentLength, 10)
		}
	}
	for i, v := range r.Header.Values(name) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, foldSpaces(v)...)
	}
	return b
}

func foldSpaces(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
