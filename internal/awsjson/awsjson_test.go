package awsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/identity"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestEveryKindHasAnException(t *testing.T) {
	seen := map[string]fedid.Kind{}
	for _, k := range fedid.Kinds() {
		ex, ok := exceptions[k]
		if !ok {
			t.Errorf("kind %v has no wire exception", k)
			continue
		}
		if prev, dup := seen[ex.Type]; dup {
			t.Errorf("kinds %v and %v share %s", prev, k, ex.Type)
		}
		seen[ex.Type] = k
		if ex.Status < 400 || ex.Status > 599 {
			t.Errorf("kind %v has status %d", k, ex.Status)
		}
		if (ex.Status >= 500) != (k == fedid.KindInternal || k == fedid.KindNotImplemented) {
			t.Errorf("kind %v: only internal errors (and not-implemented) may be 5xx, got %d", k, ex.Status)
		}
	}
	if len(exceptions) != len(fedid.Kinds()) {
		t.Errorf("table has %d entries for %d kinds", len(exceptions), len(fedid.Kinds()))
	}
}

// dump renders a response the way the golden files hold it: status, the
// headers that matter, a blank line and the body.
func dump(rec *httptest.ResponseRecorder) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", rec.Code)
	var names []string
	for k := range rec.Header() {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(rec.Header()[k], ","))
	}
	b.WriteString("\n")
	b.WriteString(rec.Body.String())
	return b.String()
}

func TestErrorGolden(t *testing.T) {
	cases := map[string]error{
		"not_authorized": fedid.Errorf(fedid.KindNotAuthorized,
			"Logins don't match. Please include at least one valid login for this identity or identity pool."),
		"pool_not_found": fedid.Errorf(fedid.KindResourceNotFound, "IdentityPool 'us-east-1:00000000-0000-0000-0000-000000000000' not found."),
		"validation": fedid.Errorf(fedid.KindValidation,
			`1 validation error detected: Value 'eu-west-1_EXAMPLE' at 'identityPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w-]+:[0-9a-f-]+`),
		// The cause of an internal error is never sent.
		"internal":           fedid.Internal("store", errors.New("disk on fire: /var/lib/secret")),
		"unclassified":       errors.New("plain error with details"),
		"newline_in_message": fedid.Errorf(fedid.KindInvalidParameter, "line one\nline two \"quoted\" <tag>"),
	}
	for name, err := range cases {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, err)
			got := dump(rec)
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update once)", err)
			}
			if got != string(want) {
				t.Fatalf("response bytes differ\n got:\n%s\nwant:\n%s", got, want)
			}
			if strings.Contains(got, "disk on fire") || strings.Contains(got, "plain error") {
				t.Fatal("internal cause leaked")
			}
		})
	}
}

func TestDecode(t *testing.T) {
	type in struct {
		Name *string           `json:"Name"`
		N    *int64            `json:"N"`
		B    *bool             `json:"B"`
		M    map[string]string `json:"M"`
	}
	for _, tc := range []struct {
		body string
		kind fedid.Kind
		ok   bool
	}{
		{``, 0, true},
		{`  `, 0, true},
		{`{}`, 0, true},
		{`{"Name":null,"Unknown":[1,2,{"x":1}]}`, 0, true},
		{`{"Name":"x","N":5,"B":true,"M":{"a":"b"}}`, 0, true},
		{`[]`, fedid.KindSerialization, false},
		{`"x"`, fedid.KindSerialization, false},
		{`{"N":"5"}`, fedid.KindSerialization, false},
		{`{"N":1.5}`, fedid.KindSerialization, false},
		{`{"B":"true"}`, fedid.KindSerialization, false},
		{`{"M":[]}`, fedid.KindSerialization, false},
		{`{"Name":1}`, fedid.KindSerialization, false},
		{`{"Name":"x"`, fedid.KindSerialization, false},
		{`{"Name":"x"} {}`, fedid.KindSerialization, false},
	} {
		var v in
		err := Decode([]byte(tc.body), &v)
		if tc.ok != (err == nil) || (!tc.ok && fedid.ErrorKind(err) != tc.kind) {
			t.Errorf("Decode(%q) = %v", tc.body, err)
		}
	}
}

func TestOperationAndContentType(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	if _, err := Operation(r); fedid.ErrorKind(err) != fedid.KindUnknownOperation {
		t.Fatalf("missing target: %v", err)
	}
	r.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	if _, err := Operation(r); fedid.ErrorKind(err) != fedid.KindUnknownOperation {
		t.Fatalf("other service: %v", err)
	}
	r.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.GetId")
	if op, err := Operation(r); err != nil || op != "GetId" {
		t.Fatalf("GetId: %v %v", op, err)
	}
	for ct, ok := range map[string]bool{
		"": true, "application/x-amz-json-1.1": true, "application/json; charset=utf-8": true,
		"APPLICATION/X-AMZ-JSON-1.1": true, "text/plain": false, "application/x-www-form-urlencoded": false,
	} {
		r.Header.Set("Content-Type", ct)
		if err := CheckContentType(r); (err == nil) != ok {
			t.Errorf("content type %q: %v", ct, err)
		}
	}
}

// TestTimeMarshal: timestamps in responses are epoch seconds with
// millisecond precision, the protocol's format.
func TestTimeMarshal(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1700000000, 0), `{"At":1700000000,"Nil":null}`},
		{time.Unix(1700000000, 123e6), `{"At":1700000000.123,"Nil":null}`},
		{time.Unix(1700000000, 123456789), `{"At":1700000000.123,"Nil":null}`},
	} {
		rec := httptest.NewRecorder()
		if err := WriteJSON(rec, struct {
			At    time.Time
			Nil   []string
			Empty []string `json:",omitempty"`
		}{At: tc.t}); err != nil || rec.Body.String() != tc.want {
			t.Errorf("%v: %s %v", tc.t, rec.Body.Bytes(), err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"IdentityPoolId":"us-east-1:1699ebc0-7900-4099-b910-2df94f52a030","Logins":{"login.example":"user1"},"TokenDuration":3600}`)
	var in struct {
		IdentityPoolId *string           `json:"IdentityPoolId"`
		Logins         map[string]string `json:"Logins"`
		TokenDuration  *int64            `json:"TokenDuration"`
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Decode(body, &in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestResponsesAsEncodingJSON holds the response encoder to encoding/json's
// bytes for response shapes without timestamps (the encoder before
// json/v2), maps and omitted members included.
func TestResponsesAsEncodingJSON(t *testing.T) {
	classic := true
	for _, v := range []any{
		&identity.IdentityPool{IdentityPoolId: "us-east-1:x", IdentityPoolName: "n <&> \u00e9",
			SupportedLoginProviders: map[string]string{"b": "2", "a": "1"}, IdentityPoolTags: map[string]string{"z": "", "k": "v"},
			CognitoIdentityProviders: []identity.CognitoProvider{{ProviderName: "p", ClientId: "c"}}, AllowClassicFlow: &classic},
		&identity.IdentityPool{IdentityPoolId: "us-east-1:y"},
		&identity.ListIdentityPoolsOutput{},
		&identity.ListIdentityPoolsOutput{IdentityPools: []identity.PoolSummary{{IdentityPoolId: "a", IdentityPoolName: "b"}}, NextToken: "t"},
		&identity.TagsOutput{}, &identity.TagsOutput{Tags: map[string]string{}},
		&identity.LookupDeveloperIdentityOutput{IdentityId: "i", DeveloperUserIdentifierList: []string{"u1", "u2"}},
		&identity.DeleteIdentitiesOutput{UnprocessedIdentityIds: []identity.UnprocessedIdentityID{{IdentityId: "i", ErrorCode: "InternalServerError"}}},
		&identity.Empty{},
	} {
		rec := httptest.NewRecorder()
		if err := WriteJSON(rec, v); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		if rec.Body.String() != string(bytes.ReplaceAll(want, []byte(`\u003c`), []byte("<"))) &&
			rec.Body.String() != unescapeHTML(string(want)) {
			t.Errorf("%T:\n got %s\nwant %s", v, rec.Body.Bytes(), want)
		}
	}
}

// unescapeHTML undoes encoding/json's HTML escaping, which fedid's encoder
// never did (SetEscapeHTML(false)).
func unescapeHTML(s string) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(s)
}
