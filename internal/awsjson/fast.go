package awsjson

// FastDecoder is a request shape that can decode the plain JSON the SDKs
// send without reflection. DecodeJSON reports false for anything it does
// not take (an unknown or repeated member, an escape sequence, a
// non-ASCII byte, a number that is not a plain integer, malformed JSON):
// Decode then starts over with encoding/json, whose result and errors are
// the reference, so the fast path only ever agrees with it or steps aside.
type FastDecoder interface {
	DecodeJSON(body []byte) bool
}

// Reader reads the plain subset of JSON a FastDecoder takes: objects,
// strings of printable ASCII without escapes, integers and null.
type Reader struct {
	b []byte
	i int
}

// NewReader returns a reader of b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

func (r *Reader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *Reader) byte(c byte) bool {
	r.space()
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// Null consumes a null if one comes next.
func (r *Reader) Null() bool {
	r.space()
	if len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "null" {
		r.i += 4
		return true
	}
	return false
}

// String reads a string.
func (r *Reader) String() (string, bool) {
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
func (r *Reader) OptString(p **string) bool {
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
func (r *Reader) OptInt64(p **int64) bool {
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
func (r *Reader) StringMap(p *map[string]string) bool {
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
func (r *Reader) Object(member func(key string) bool) bool {
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
func (r *Reader) End() bool {
	r.space()
	return r.i == len(r.b)
}
