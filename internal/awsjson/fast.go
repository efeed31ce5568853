package awsjson

import "github.com/fedid/fedid/internal/identity"

// The hot path's codecs, without reflection: the token request most
// clients send, read by a reader of the plain JSON the SDKs write, and the
// token response written by appends. Each steps aside (reports false) for
// anything it does not take, and the reference codec (json/v2, strict)
// does the work instead, so the fast path only ever agrees with it.

// decodeDeveloperToken reads a GetOpenIdTokenForDeveloperIdentity request
// of printable-ASCII strings without escapes, integers and null, each
// member once. It reports false (leaving *in zero) for anything else: an
// unknown or repeated member, an escape, a non-ASCII byte, a number that
// is not a plain integer, malformed JSON.
func decodeDeveloperToken(b []byte, in *identity.GetOpenIdTokenForDeveloperIdentityInput) bool {
	var seen uint8
	r := &reader{b: b}
	once := func(bit uint8) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	ok := r.Object(func(key string) bool {
		switch key {
		case "IdentityPoolId":
			return once(1) && r.OptString(&in.IdentityPoolId)
		case "IdentityId":
			return once(2) && r.OptString(&in.IdentityId)
		case "Logins":
			return once(4) && r.StringMap(&in.Logins)
		case "PrincipalTags":
			return once(8) && r.StringMap(&in.PrincipalTags)
		case "TokenDuration":
			return once(16) && r.OptInt64(&in.TokenDuration)
		}
		return false
	}) && r.End()
	if !ok {
		*in = identity.GetOpenIdTokenForDeveloperIdentityInput{} // the reference codec starts from zero
	}
	return ok
}

// appendTokenOutput appends the token response as the reference encoder
// writes it, and reports false when a value would need escaping.
func appendTokenOutput(b []byte, o *identity.TokenOutput) ([]byte, bool) {
	b = append(b, `{"IdentityId":`...)
	b, ok1 := appendPlainString(b, o.IdentityId)
	b = append(b, `,"Token":`...)
	b, ok2 := appendPlainString(b, o.Token)
	return append(b, '}'), ok1 && ok2
}

// reader reads the plain subset of JSON decodeDeveloperToken takes: objects,
// strings of printable ASCII without escapes, integers and null.
type reader struct {
	b []byte
	i int
}

func (r *reader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *reader) byte(c byte) bool {
	r.space()
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// Null consumes a null if one comes next.
func (r *reader) Null() bool {
	r.space()
	if len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "null" {
		r.i += 4
		return true
	}
	return false
}

// String reads a string.
func (r *reader) String() (string, bool) {
	if !r.byte('"') {
		return "", false
	}
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := string(r.b[start:r.i])
			r.i++
			return s, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return "", false
		}
		r.i++
	}
	return "", false
}

// OptString reads a string or null into *p.
func (r *reader) OptString(p **string) bool {
	if r.Null() {
		*p = nil
		return true
	}
	s, ok := r.String()
	*p = &s
	return ok
}

// OptInt64 reads an integer (no fraction, exponent or leading zero) or
// null into *p.
func (r *reader) OptInt64(p **int64) bool {
	if r.Null() {
		*p = nil
		return true
	}
	r.space()
	neg := false
	if r.i < len(r.b) && r.b[r.i] == '-' {
		neg = true
		r.i++
	}
	digits := r.i
	var v int64
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		v = v*10 + int64(r.b[r.i]-'0')
		r.i++
	}
	n := r.i - digits
	if n == 0 || n > 18 || (n > 1 && r.b[digits] == '0') {
		return false
	}
	if r.i < len(r.b) {
		switch r.b[r.i] {
		case '.', 'e', 'E':
			return false
		}
	}
	if neg {
		v = -v
	}
	*p = &v
	return true
}

// StringMap reads an object of strings, or null, into *p. A repeated key
// is refused (encoding/json keeps the last; stepping aside is simpler).
func (r *reader) StringMap(p *map[string]string) bool {
	if r.Null() {
		*p = nil
		return true
	}
	m := map[string]string{}
	ok := r.Object(func(key string) bool {
		if _, dup := m[key]; dup {
			return false
		}
		v, ok := r.String()
		m[key] = v
		return ok
	})
	*p = m
	return ok
}

// Object reads an object, calling member for each key with the reader
// positioned at its value, which member must read.
func (r *reader) Object(member func(key string) bool) bool {
	if !r.byte('{') {
		return false
	}
	if r.byte('}') {
		return true
	}
	for {
		key, ok := r.String()
		if !ok || !r.byte(':') || !member(key) {
			return false
		}
		if r.byte(',') {
			continue
		}
		return r.byte('}')
	}
}

// End reports whether only white space is left.
func (r *reader) End() bool {
	r.space()
	return r.i == len(r.b)
}
