package awsjson

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"

	"github.com/fedid/fedid/internal/identity"
)

// TestTokenOutputJSON holds the hand-written token response to
// encoding/json's bytes, and to the generic path when a value needs
// escaping.
func TestTokenOutputJSON(t *testing.T) {
	for _, o := range []identity.TokenOutput{
		{IdentityId: "us-east-1:11111111-2222-3333-4444-555555555555", Token: "eyJraWQ.eyJzdWIi.c2ln-_"},
		{IdentityId: "", Token: ""},
		{IdentityId: `quote"back\slash`, Token: "tab\tnewline\n<&>é\u2028"},
	} {
		rec := httptest.NewRecorder()
		if err := WriteJSON(rec, &o); err != nil {
			t.Fatal(err)
		}
		var want []byte
		enc, _ := json.Marshal(struct {
			IdentityId string
			Token      string
		}{o.IdentityId, o.Token})
		want = enc
		var back identity.TokenOutput
		if err := json.Unmarshal(rec.Body.Bytes(), &back); err != nil || back != o {
			t.Fatalf("%q does not decode to %+v: %v", rec.Body.Bytes(), o, err)
		}
		if _, plain := appendTokenOutput(nil, &o); plain && rec.Body.String() != string(want) {
			t.Fatalf("got %s want %s", rec.Body.Bytes(), want)
		}
		if rec.Header().Get("Content-Length") != "" && rec.Header().Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
			t.Fatalf("content-length %s for %d bytes", rec.Header().Get("Content-Length"), rec.Body.Len())
		}
	}
}

// fastSeeds are request bodies for the fast decoder: what SDKs send, and
// near misses it must step aside for.
var fastSeeds = []string{
	`{"IdentityPoolId":"us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","Logins":{"login.example":"user-1"}}`,
	` { "IdentityPoolId" : "p" , "IdentityId" : null , "Logins" : { } , "PrincipalTags" : {"a":"b","c":""} , "TokenDuration" : 3600 } `,
	`{"IdentityPoolId":null,"Logins":null,"PrincipalTags":null,"TokenDuration":null}`,
	`{"TokenDuration":-0}`, `{"TokenDuration":0}`, `{"TokenDuration":01}`, `{"TokenDuration":1.5}`, `{"TokenDuration":1e3}`,
	`{"TokenDuration":99999999999999999999}`, `{"TokenDuration":"60"}`, `{"IdentityPoolId":5}`,
	`{"identitypoolid":"p"}`, `{"IdentityPoolId":"p","IdentityPoolId":"q"}`, `{"Logins":{"a":"1","a":"2"}}`,
	`{"Logins":{"a":"\u00e9"}}`, `{"Logins":{"a":"é"}}`, `{"Logins":{"a":"x\ty"}}`, `{"Other":1}`, `{}`, `{"IdentityPoolId":"p"}x`,
	`{"IdentityPoolId":"p",}`, `{"IdentityPoolId" "p"}`, `{"Logins":{"a":1}}`, `{"Logins":["a"]}`, `{"IdentityPoolId":"p"}{}`,
}

// TestFastDecodeTakesSDKBodies checks the fast decoder takes what SDKs
// send (else it would silently never run).
func TestFastDecodeTakesSDKBodies(t *testing.T) {
	for _, s := range fastSeeds[:4] {
		var in identity.GetOpenIdTokenForDeveloperIdentityInput
		if !decodeDeveloperToken([]byte(s), &in) {
			t.Errorf("fast decoder refused %s", s)
		}
	}
}

// FuzzFastDecode holds the fast decoder to encoding/json: whenever it
// takes a body, encoding/json takes it too and decodes the same value.
func FuzzFastDecode(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var fast identity.GetOpenIdTokenForDeveloperIdentityInput
		if !decodeDeveloperToken([]byte(body), &fast) {
			if !reflect.DeepEqual(fast, identity.GetOpenIdTokenForDeveloperIdentityInput{}) {
				t.Fatalf("refused %q but left %+v", body, fast)
			}
			return
		}
		var ref identity.GetOpenIdTokenForDeveloperIdentityInput
		if err := json.Unmarshal([]byte(body), &ref); err != nil {
			t.Fatalf("fast decoder took %q, encoding/json refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(fast, ref) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", body, fast, ref)
		}
	})
}
