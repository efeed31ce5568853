package awsjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/identity"
)

// strictIn has every kind of member the service model uses.
type strictIn struct {
	Name  *string                `json:"Name"`
	N     *int64                 `json:"N"`
	B     *bool                  `json:"B"`
	M     map[string]string      `json:"M"`
	L     []string               `json:"L"`
	Elems []identity.MappingRule `json:"Elems"`
	ElemM map[string]identity.RoleMapping
}

// TestDecodeStrict pins the one input rule of every operation: what a
// lenient decoder repairs or folds together is refused.
func TestDecodeStrict(t *testing.T) {
	for _, tc := range []struct {
		name, body string
	}{
		{"lone high surrogate", `{"Name":"jos\ud800"}`},
		{"lone low surrogate", `{"Name":"jos\udfff"}`},
		{"reversed pair", `{"Name":"\udc00\ud800"}`},
		{"Latin-1 byte", "{\"Name\":\"jos\xe9\"}"},
		{"another Latin-1 byte", "{\"Name\":\"jos\xe8\"}"},
		{"invalid UTF-8 in a map key", "{\"M\":{\"k\xff\":\"v\"}}"},
		{"invalid UTF-8 in an unknown member", "{\"Other\":\"\xc3\"}"},
		{"surrogate in a list", `{"L":["\ud834"]}`},
		{"lower-case member", `{"name":"x"}` + ``},
		{"repeated member", `{"Name":"a","Name":"b"}`},
		{"repeated map key", `{"M":{"k":"a","k":"b"}}`},
		{"null map value", `{"M":{"k":null}}`},
		{"null list element", `{"L":["a",null]}`},
		{"null structure element", `{"Elems":[null]}`},
		{"null structure map value", `{"ElemM":{"k":null}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v strictIn
			err := Decode([]byte(tc.body), &v)
			if tc.name == "lower-case member" {
				// An unknown member is ignored, so the value is simply
				// not taken: never matched to Name.
				if err != nil || v.Name != nil {
					t.Fatalf("Decode(%q) = %v, Name %v", tc.body, err, v.Name)
				}
				return
			}
			if fedid.ErrorKind(err) != fedid.KindSerialization {
				t.Fatalf("Decode(%q) = %v, want SerializationException", tc.body, err)
			}
			msg := fedid.ErrorMessage(err)
			if !utf8.ValidString(msg) || strings.Contains(msg, "jos") {
				t.Fatalf("message %q echoes the value or is not UTF-8", msg)
			}
		})
	}
	// What stays accepted: a valid pair, U+FFFD itself, null members.
	for _, body := range []string{`{"Name":"\ud83d\ude00"}`, `{"Name":"jos\ufffd"}`, "{\"Name\":\"jos\xc3\xa9\"}",
		`{"Name":null,"M":null,"L":null,"Elems":[{"Claim":null}]}`} {
		var v strictIn
		if err := Decode([]byte(body), &v); err != nil {
			t.Errorf("Decode(%q) = %v", body, err)
		}
	}
}

// TestDecodeLongNameNotEchoed: a huge repeated member name is not quoted
// whole in the error.
func TestDecodeLongNameNotEchoed(t *testing.T) {
	long := strings.Repeat("A", 100000)
	err := Decode([]byte(`{"`+long+`":1,"`+long+`":2}`), &strictIn{})
	if fedid.ErrorKind(err) != fedid.KindSerialization || len(fedid.ErrorMessage(err)) > 400 {
		t.Fatalf("%v (%d bytes)", fedid.ErrorKind(err), len(fedid.ErrorMessage(err)))
	}
}

// FuzzDecodeDifferential holds Decode to encoding/json: whatever Decode
// accepts, encoding/json accepts with the same value; whatever Decode
// refuses that encoding/json accepts must be one of the documented
// stricter rules (invalid UTF-8 or lone surrogates, a repeated or
// case-folded member, a null element).
func FuzzDecodeDifferential(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"Name":"x","N":5,"B":true,"M":{"a":"b"},"L":["c"]}`, `{"Name":"jos\ud800"}`,
		`{"Name":"a","Name":"b"}`, `{"name":"x"}`, `{"M":{"k":null}}`, `{"Elems":[{"Claim":"y"}],"ElemM":{"k":{"Type":null}}}`,
		"{\"Name\":\"\xe9\"}", `{"N":1.5}`, `{"N":-12}`, `{"L":[null]}`, `{"Name":"\u00e9\n"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got strictIn
		err := Decode(body, &got)
		var ref strictIn
		trimmed := bytes.TrimSpace(body)
		refErr := json.Unmarshal(trimmed, &ref)
		if len(trimmed) == 0 {
			refErr = nil
		}
		if err == nil {
			if refErr != nil && !stricterCase(trimmed) {
				t.Fatalf("Decode took %q, encoding/json refuses it: %v", body, refErr)
			}
			if !reflect.DeepEqual(got, ref) && !stricterCase(trimmed) {
				t.Fatalf("%q: Decode %+v, encoding/json %+v", body, got, ref)
			}
			return
		}
		if fedid.ErrorKind(err) != fedid.KindSerialization {
			t.Fatalf("%q: %v is not a SerializationException", body, err)
		}
		if refErr == nil && !stricterCase(trimmed) {
			t.Fatalf("Decode refused %q (%v), encoding/json takes it and no stricter rule applies", body, err)
		}
	})
}

// stricterCase reports whether body breaks one of the rules Decode holds
// beyond encoding/json's.
func stricterCase(body []byte) bool {
	if !utf8.Valid(body) || bytes.Contains(body, []byte(`\u`)) || bytes.Contains(body, []byte(`\U`)) {
		return true // invalid UTF-8, or escapes that may be lone surrogates
	}
	if bytes.Contains(body, []byte("null")) {
		return true
	}
	// A repeated or case-folded member name: any name that occurs twice
	// ignoring case.
	var names []string
	type frame struct{ object, key bool }
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			if stack[n-1].key {
				names = append(names, strings.ToLower(tok.(string)))
				stack[n-1].key = false
				continue
			}
			stack[n-1].key = true // the value is read; a key comes next
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, frame{object: d == '{', key: d == '{'})
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return true
		}
		seen[n] = true
	}
	// Known member names in another case are unknown to Decode (ignored),
	// to encoding/json the member itself.
	for _, n := range names {
		for _, known := range []string{"name", "n", "b", "m", "l", "elems", "elemm",
			"claim", "matchtype", "value", "rolearn", "type", "ambiguousroleresolution", "rulesconfiguration", "rules"} {
			if n == known {
				return true
			}
		}
	}
	return false
}
