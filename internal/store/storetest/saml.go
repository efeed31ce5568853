package storetest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fedid/fedid"
)

func testSAMLProviders(t *testing.T, s fedid.Store) {
	arn := fedid.SAMLProviderARN("111111111111", "corp")
	if arn != "arn:aws:iam::111111111111:saml-provider/corp" {
		t.Fatalf("arn %s", arn)
	}
	if _, err := s.GetSAMLProvider(ctx, arn); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("missing provider: %v", err)
	}
	// A large document, with characters that need care in SQL and XML.
	doc := `<md:EntityDescriptor entityID="https://idp.example/'quoted'">` + strings.Repeat("é", 5000) + `</md:EntityDescriptor>`
	p := fedid.SAMLProvider{ARN: arn, Account: "111111111111", Name: "corp", Metadata: doc,
		ValidUntil: base.Add(24 * time.Hour), CreatedAt: base}
	if err := s.PutSAMLProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	other := fedid.SAMLProvider{ARN: fedid.SAMLProviderARN("222222222222", "a"), Account: "222222222222", Name: "a", Metadata: "<x/>", CreatedAt: base}
	if err := s.PutSAMLProvider(ctx, other); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSAMLProvider(ctx, arn)
	if err != nil || !reflect.DeepEqual(*got, p) {
		t.Fatalf("round trip\n got %+v\nwant %+v (%v)", got, p, err)
	}
	// Replacing keeps the first registration's creation time.
	p.Metadata, p.ValidUntil = "<new/>", time.Time{}
	replaced := p
	replaced.CreatedAt = base.Add(time.Hour)
	if err := s.PutSAMLProvider(ctx, replaced); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListSAMLProviders(ctx, "111111111111")
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], p) {
		t.Fatalf("list %+v %v", list, err)
	}
	if all, err := s.ListSAMLProviders(ctx, ""); err != nil || len(all) != 2 || all[0].ARN != arn || all[1].ARN != other.ARN {
		t.Fatalf("every account's providers %+v %v", all, err)
	}
	if err := s.DeleteSAMLProvider(ctx, arn); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSAMLProvider(ctx, arn); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if list, _ := s.ListSAMLProviders(ctx, "111111111111"); len(list) != 0 {
		t.Fatalf("after delete %+v", list)
	}
}
