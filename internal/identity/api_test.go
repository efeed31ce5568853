package identity

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/fedid/fedid/internal/awsjson"
)

// TestTokenOutputJSON holds the hand-written token response to
// encoding/json's bytes, and to the generic path when a value needs
// escaping.
func TestTokenOutputJSON(t *testing.T) {
	for _, o := range []TokenOutput{
		{IdentityId: "us-east-1:11111111-2222-3333-4444-555555555555", Token: "eyJraWQ.eyJzdWIi.c2ln-_"},
		{IdentityId: "", Token: ""},
		{IdentityId: `quote"back\slash`, Token: "tab\tnewline\n<&>é\u2028"},
	} {
		rec := httptest.NewRecorder()
		if err := awsjson.WriteJSON(rec, &o); err != nil {
			t.Fatal(err)
		}
		var want []byte
		enc, _ := json.Marshal(struct {
			IdentityId string
			Token      string
		}{o.IdentityId, o.Token})
		want = enc
		var back TokenOutput
		if err := json.Unmarshal(rec.Body.Bytes(), &back); err != nil || back != o {
			t.Fatalf("%q does not decode to %+v: %v", rec.Body.Bytes(), o, err)
		}
		if _, plain := o.AppendJSON(nil); plain && rec.Body.String() != string(want) {
			t.Fatalf("got %s want %s", rec.Body.Bytes(), want)
		}
		if rec.Header().Get("Content-Length") != "" && rec.Header().Get("Content-Length") != itoa(rec.Body.Len()) {
			t.Fatalf("content-length %s for %d bytes", rec.Header().Get("Content-Length"), rec.Body.Len())
		}
	}
}
