// Package storetest is the conformance suite every fedid.Store backend
// runs: the same behaviour, uniqueness rules and concurrency guarantees
// whatever the database.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/fedid/fedid"
)

// Run runs the suite; open returns a fresh, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) fedid.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s fedid.Store)
	}{
		{"AccessKeys", testAccessKeys},
		{"AccessKeyLifecycle", testAccessKeyLifecycle},
		{"OIDCProviders", testOIDCProviders},
		{"SAMLProviders", testSAMLProviders},
		{"Sessions", testSessions},
		{"PoolRoundTrip", testPoolRoundTrip},
		{"PoolVersions", testPoolVersions},
		{"ListPools", testListPools},
		{"DeletePoolCascades", testDeletePoolCascades},
		{"Reset", testReset},
		{"Identities", testIdentities},
		{"CreateIdentityAlone", testCreateIdentityAlone},
		{"LoginUniqueness", testLoginUniqueness},
		{"RemoveAndMoveLogins", testRemoveAndMoveLogins},
		{"ListIdentities", testListIdentities},
		{"ListIdentitiesOfOneInstant", testListOneInstant},
		{"IdentityRegions", testIdentityRegions},
		{"RollbackOnError", testRollback},
		{"ConcurrentFirstLogin", testConcurrentFirstLogin},
		{"SigningKeys", testSigningKeys},
		{"ConcurrentSigningKeys", testConcurrentSigningKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

// base is a fixed instant with nanoseconds, to prove times round-trip.
var base = time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.UTC)

func update(tb testing.TB, s fedid.Store, fn func(tx fedid.Tx) error) {
	tb.Helper()
	if err := s.Update(ctx, fn); err != nil {
		tb.Fatal(err)
	}
}

func mkPool(tb testing.TB, s fedid.Store, id, account, region string, created time.Time) *fedid.Pool {
	tb.Helper()
	p := &fedid.Pool{ID: id, Account: account, Region: region, Name: "pool " + id, CreatedAt: created}
	update(tb, s, func(tx fedid.Tx) error { return tx.CreatePool(ctx, p) })
	return p
}

func mkIdentity(tb testing.TB, s fedid.Store, pool, id string, created time.Time, logins ...fedid.Login) *fedid.Identity {
	tb.Helper()
	x := &fedid.Identity{ID: id, PoolID: pool, Authenticated: len(logins) > 0, CreatedAt: created, ModifiedAt: created, Logins: logins}
	update(tb, s, func(tx fedid.Tx) error { return tx.CreateIdentity(ctx, x) })
	return x
}

func dev(key string, at time.Time) fedid.Login {
	return fedid.Login{Provider: "login.example", Key: key, Developer: true, LinkedAt: at}
}

func pub(provider, key string, at time.Time) fedid.Login {
	return fedid.Login{Provider: provider, Key: key, LinkedAt: at}
}

func testAccessKeys(t *testing.T, s fedid.Store) {
	if _, err := s.GetAccessKey(ctx, "nope"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	if n, err := s.CountAccessKeys(ctx); err != nil || n != 0 {
		t.Fatalf("count %d %v", n, err)
	}
	k := fedid.AccessKey{ID: "AKIA1", Secret: "s1", Account: "111111111111", Created: base}
	if err := s.PutAccessKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetAccessKey(ctx, "AKIA1")
	if err != nil || got.Secret != "s1" || got.Account != "111111111111" || !got.Created.Equal(base) {
		t.Fatalf("get %+v %v", got, err)
	}
	k.Secret, k.Account = "s2", "222222222222"
	if err := s.PutAccessKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetAccessKey(ctx, "AKIA1")
	if got.Secret != "s2" || got.Account != "222222222222" {
		t.Fatalf("replace %+v", got)
	}
	if n, _ := s.CountAccessKeys(ctx); n != 1 {
		t.Fatalf("count %d", n)
	}
}

// testAccessKeyLifecycle: list newest first (secrets included, for the
// caller to leave out), last use kept at its latest, delete.
func testAccessKeyLifecycle(t *testing.T, s fedid.Store) {
	if ks, err := s.ListAccessKeys(ctx); err != nil || len(ks) != 0 {
		t.Fatalf("empty list %v %v", ks, err)
	}
	for i, id := range []string{"AKIAOLD", "AKIANEW", "AKIAMID"} {
		created := []time.Time{base, base.Add(2 * time.Hour), base.Add(time.Hour)}[i]
		if err := s.PutAccessKey(ctx, fedid.AccessKey{ID: id, Secret: "s" + id, Account: "111111111111", Created: created}); err != nil {
			t.Fatal(err)
		}
	}
	ks, err := s.ListAccessKeys(ctx)
	if err != nil || len(ks) != 3 || ks[0].ID != "AKIANEW" || ks[1].ID != "AKIAMID" || ks[2].ID != "AKIAOLD" {
		t.Fatalf("list %v %v", ks, err)
	}
	if !ks[0].Created.Equal(base.Add(2*time.Hour)) || !ks[0].LastUsed.IsZero() || ks[0].Secret != "" { // a listing carries no secret
		t.Fatalf("listed key %+v", ks[0])
	}
	used := base.Add(3 * time.Hour)
	if err := s.TouchAccessKey(ctx, "AKIAMID", used); err != nil {
		t.Fatal(err)
	}
	// An earlier time (a late flush of another instance) keeps the later.
	if err := s.TouchAccessKey(ctx, "AKIAMID", used.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetAccessKey(ctx, "AKIAMID"); err != nil || !got.LastUsed.Equal(used) {
		t.Fatalf("last used %+v %v", got, err)
	}
	// Replacing the secret keeps the record of use.
	if err := s.PutAccessKey(ctx, fedid.AccessKey{ID: "AKIAMID", Secret: "other", Account: "111111111111", Created: base}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetAccessKey(ctx, "AKIAMID"); !got.LastUsed.Equal(used) {
		t.Fatalf("last used after replace %+v", got)
	}
	// Touching a deleted key is no error: the key went between the request
	// and the flush.
	if err := s.TouchAccessKey(ctx, "AKIAGONE", used); err != nil {
		t.Fatalf("touch missing: %v", err)
	}
	if err := s.DeleteAccessKey(ctx, "AKIAOLD"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccessKey(ctx, "AKIAOLD"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := s.GetAccessKey(ctx, "AKIAOLD"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("deleted key: %v", err)
	}
	if n, _ := s.CountAccessKeys(ctx); n != 2 {
		t.Fatalf("count %d", n)
	}
}

func testOIDCProviders(t *testing.T, s fedid.Store) {
	arn := fedid.OIDCProviderARN("111111111111", "https://issuer.example.com/tenant")
	if arn != "arn:aws:iam::111111111111:oidc-provider/issuer.example.com/tenant" {
		t.Fatalf("arn %s", arn)
	}
	if _, err := s.GetOIDCProvider(ctx, arn); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("missing provider: %v", err)
	}
	p := fedid.OIDCProvider{ARN: arn, Account: "111111111111", URL: "https://issuer.example.com/tenant",
		ClientIDs: []string{"a", "b"}, Thumbprints: []string{"0123"}, JWKSURL: "http://127.0.0.1:1/jwks",
		JWKS: []byte(`{"keys":[]}`), CreatedAt: base}
	if err := s.PutOIDCProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	other := fedid.OIDCProvider{ARN: fedid.OIDCProviderARN("222222222222", "https://x.example"), Account: "222222222222", URL: "https://x.example", CreatedAt: base}
	if err := s.PutOIDCProvider(ctx, other); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetOIDCProvider(ctx, arn)
	if err != nil || !reflect.DeepEqual(*got, p) {
		t.Fatalf("round trip\n got %+v\nwant %+v (%v)", got, p, err)
	}
	p.ClientIDs = []string{"c"}
	p.JWKS = nil
	if err := s.PutOIDCProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListOIDCProviders(ctx, "111111111111")
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], p) {
		t.Fatalf("list %+v %v", list, err)
	}
	if all, err := s.ListOIDCProviders(ctx, ""); err != nil || len(all) != 2 || all[0].ARN != arn || all[1].ARN != other.ARN {
		t.Fatalf("every account's providers %+v %v", all, err)
	}
	if err := s.DeleteOIDCProvider(ctx, arn); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOIDCProvider(ctx, arn); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if list, _ := s.ListOIDCProviders(ctx, "111111111111"); len(list) != 0 {
		t.Fatalf("after delete %+v", list)
	}
}

func testSessions(t *testing.T, s fedid.Store) {
	se := fedid.Session{AccessKeyID: "ASIAEXAMPLE000000001", Secret: "secret", TokenHash: []byte{1, 2, 3}, Account: "111111111111",
		RoleARN: "arn:aws:iam::111111111111:role/r", IdentityID: "us-east-1:i", PoolID: "us-east-1:p",
		Tags: map[string]string{"team": "blue"}, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	if err := s.PutSession(ctx, se); err != nil {
		t.Fatal(err)
	}
	old := se
	old.AccessKeyID, old.Tags, old.ExpiresAt = "ASIAEXAMPLE000000002", nil, base.Add(-time.Minute)
	if err := s.PutSession(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSession(ctx, se); !errors.Is(err, fedid.ErrDuplicate) {
		t.Fatalf("same access key twice: %v", err)
	}
	got, err := s.GetSession(ctx, se.AccessKeyID)
	if err != nil || !reflect.DeepEqual(*got, se) {
		t.Fatalf("round trip\n got %+v\nwant %+v (%v)", got, se, err)
	}
	if n, err := s.DeleteSessionsBefore(ctx, base); err != nil || n != 1 {
		t.Fatalf("delete expired: %d %v", n, err)
	}
	if _, err := s.GetSession(ctx, old.AccessKeyID); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
}

func testPoolRoundTrip(t *testing.T, s fedid.Store) {
	tr, fa := true, false
	pools := []*fedid.Pool{
		{ID: "us-east-1:p1", Account: "111111111111", Region: "us-east-1", Name: "full", CreatedAt: base,
			AllowUnauthenticated: true, AllowClassicFlow: &tr,
			SupportedLoginProviders:   map[string]string{"accounts.google.com": "client"},
			DeveloperProviderName:     "login.example",
			OpenIDConnectProviderARNs: []string{"arn:aws:iam::111111111111:oidc-provider/a"},
			CognitoIdentityProviders:  []fedid.CognitoProvider{{ProviderName: "cognito-idp.us-east-1.amazonaws.com/us-east-1_X", ClientID: "c", ServerSideTokenCheck: true}},
			SAMLProviderARNs:          []string{"arn:aws:iam::111111111111:saml-provider/s"},
			Tags:                      map[string]string{"k": "v", "empty": ""},
			Roles:                     map[string]string{"authenticated": "arn:aws:iam::111111111111:role/a"},
			Extra:                     map[string][]byte{"roleMappings": []byte(`{"x":1}`)}},
		{ID: "us-east-1:p2", Account: "111111111111", Region: "us-east-1", Name: "empty", CreatedAt: base, AllowClassicFlow: &fa,
			SupportedLoginProviders: map[string]string{}, OpenIDConnectProviderARNs: []string{}, CognitoIdentityProviders: []fedid.CognitoProvider{},
			SAMLProviderARNs: []string{}, Tags: map[string]string{}, Roles: map[string]string{}, Extra: map[string][]byte{}},
		{ID: "us-east-1:p3", Account: "111111111111", Region: "us-east-1", Name: "nil", CreatedAt: base},
	}
	for _, p := range pools {
		update(t, s, func(tx fedid.Tx) error { return tx.CreatePool(ctx, p) })
		if p.Version != 1 {
			t.Fatalf("version after create %d", p.Version)
		}
		got, err := s.GetPool(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, p)
		}
	}
	if _, err := s.GetPool(ctx, "us-east-1:none"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("missing pool: %v", err)
	}
	err := s.Update(ctx, func(tx fedid.Tx) error { return tx.CreatePool(ctx, &fedid.Pool{ID: "us-east-1:p1", CreatedAt: base}) })
	if !errors.Is(err, fedid.ErrDuplicate) {
		t.Fatalf("duplicate pool id: %v", err)
	}
}

func testPoolVersions(t *testing.T, s fedid.Store) {
	p := mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	p.Name, p.Version = "renamed", 2
	update(t, s, func(tx fedid.Tx) error { return tx.UpdatePool(ctx, p) })
	got, _ := s.GetPool(ctx, p.ID)
	if got.Name != "renamed" || got.Version != 2 {
		t.Fatalf("after update %+v", got)
	}
	stale := *p
	stale.Version = 2 // based on version 1 again
	if err := s.Update(ctx, func(tx fedid.Tx) error { return tx.UpdatePool(ctx, &stale) }); !errors.Is(err, fedid.ErrVersion) {
		t.Fatalf("stale update: %v", err)
	}
	update(t, s, func(tx fedid.Tx) error { return tx.DeletePool(ctx, p.ID) })
	p.Version = 3
	if err := s.Update(ctx, func(tx fedid.Tx) error { return tx.UpdatePool(ctx, p) }); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("update of deleted pool: %v", err)
	}
	if err := s.Update(ctx, func(tx fedid.Tx) error { return tx.DeletePool(ctx, p.ID) }); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("delete of deleted pool: %v", err)
	}
}

func ids[T any](xs []T, id func(T) string) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func poolID(p *fedid.Pool) string { return p.ID }

func testListPools(t *testing.T, s fedid.Store) {
	// Two pools share a creation time: ID breaks the tie.
	mkPool(t, s, "us-east-1:c", "111111111111", "us-east-1", base.Add(2))
	mkPool(t, s, "us-east-1:b", "111111111111", "us-east-1", base.Add(1))
	mkPool(t, s, "us-east-1:a", "111111111111", "us-east-1", base.Add(2))
	mkPool(t, s, "us-east-1:d", "111111111111", "us-east-1", base.Add(3))
	mkPool(t, s, "us-east-1:x", "222222222222", "us-east-1", base)
	mkPool(t, s, "eu-west-1:y", "111111111111", "eu-west-1", base)
	all, err := s.ListPools(ctx, "111111111111", "us-east-1", fedid.Cursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ids(all, poolID)); got != "[us-east-1:b us-east-1:a us-east-1:c us-east-1:d]" {
		t.Fatalf("order %s", got)
	}
	page, _ := s.ListPools(ctx, "111111111111", "us-east-1", fedid.Cursor{}, 2)
	last := page[len(page)-1]
	// A pool deleted and one created between pages change nothing before
	// the cursor.
	update(t, s, func(tx fedid.Tx) error { return tx.DeletePool(ctx, "us-east-1:b") })
	mkPool(t, s, "us-east-1:e", "111111111111", "us-east-1", base.Add(4))
	rest, _ := s.ListPools(ctx, "111111111111", "us-east-1", fedid.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}, 10)
	if got := fmt.Sprint(ids(rest, poolID)); got != "[us-east-1:c us-east-1:d us-east-1:e]" {
		t.Fatalf("second page %s", got)
	}
	every, err := s.ListPools(ctx, "", "", fedid.Cursor{}, 10)
	if got := fmt.Sprint(ids(every, poolID)); err != nil || got != "[eu-west-1:y us-east-1:x us-east-1:a us-east-1:c us-east-1:d us-east-1:e]" {
		t.Fatalf("every account's pools %s %v", got, err)
	}
	if n, _ := s.CountPools(ctx, "111111111111", "us-east-1"); n != 4 {
		t.Fatalf("count %d", n)
	}
	if n, _ := s.CountPools(ctx, "333333333333", "us-east-1"); n != 0 {
		t.Fatalf("count of empty account %d", n)
	}
}

func testDeletePoolCascades(t *testing.T, s fedid.Store) {
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	mkIdentity(t, s, "us-east-1:p", "us-east-1:i1", base, dev("u1", base), pub("accounts.google.com", "g1", base))
	update(t, s, func(tx fedid.Tx) error { return tx.DeletePool(ctx, "us-east-1:p") })
	if _, err := s.GetIdentity(ctx, "us-east-1:i1"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("identity survived: %v", err)
	}
	if _, err := s.FindLogin(ctx, "us-east-1:p", "login.example", "u1"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("login survived: %v", err)
	}
	// The same IDs and logins can be used again.
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	mkIdentity(t, s, "us-east-1:p", "us-east-1:i1", base, dev("u1", base))
}

// testReset: everything goes but access keys and signing keys.
func testReset(t *testing.T, s fedid.Store) {
	key := fedid.AccessKey{ID: "AKIARESETKEEPS000001", Secret: "s", Account: "111111111111", Created: base}
	if err := s.PutAccessKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	sk := fedid.SigningKey{ID: "k1", Seq: 1, PrivateKey: []byte("pem"), CreatedAt: base}
	if err := s.UpdateSigningKeys(ctx, func([]fedid.SigningKey) ([]fedid.SigningKey, error) { return []fedid.SigningKey{sk}, nil }); err != nil {
		t.Fatal(err)
	}
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	mkIdentity(t, s, "us-east-1:p", "us-east-1:i1", base, dev("u1", base))
	prov := fedid.OIDCProvider{ARN: fedid.OIDCProviderARN("111111111111", "https://x.example"), Account: "111111111111", URL: "https://x.example", CreatedAt: base}
	if err := s.PutOIDCProvider(ctx, prov); err != nil {
		t.Fatal(err)
	}
	saml := fedid.SAMLProvider{ARN: fedid.SAMLProviderARN("111111111111", "corp"), Account: "111111111111", Name: "corp", Metadata: "<md/>", CreatedAt: base}
	if err := s.PutSAMLProvider(ctx, saml); err != nil {
		t.Fatal(err)
	}
	se := fedid.Session{AccessKeyID: "ASIARESET00000000001", Secret: "x", TokenHash: []byte{1}, Account: "111111111111", RoleARN: "arn:aws:iam::111111111111:role/r", IdentityID: "us-east-1:i", PoolID: "us-east-1:p", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	if err := s.PutSession(ctx, se); err != nil {
		t.Fatal(err)
	}
	update(t, s, func(tx fedid.Tx) error { return tx.Reset(ctx) })
	if _, err := s.GetPool(ctx, "us-east-1:p"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("pool survived: %v", err)
	}
	if _, err := s.GetIdentity(ctx, "us-east-1:i1"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("identity survived: %v", err)
	}
	if _, err := s.FindLogin(ctx, "us-east-1:p", "login.example", "u1"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("login survived: %v", err)
	}
	if _, err := s.GetOIDCProvider(ctx, prov.ARN); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("provider survived: %v", err)
	}
	if _, err := s.GetSAMLProvider(ctx, saml.ARN); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("SAML provider survived: %v", err)
	}
	if _, err := s.GetSession(ctx, se.AccessKeyID); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("session survived: %v", err)
	}
	if got, err := s.GetAccessKey(ctx, key.ID); err != nil || got.Secret != "s" {
		t.Fatalf("access key lost: %+v %v", got, err)
	}
	if keys, err := s.SigningKeys(ctx); err != nil || len(keys) != 1 {
		t.Fatalf("signing keys lost: %+v %v", keys, err)
	}
	// The same IDs and logins can be used again.
	mkPool(t, s, "us-east-1:p", "111111111111", "us-east-1", base)
	mkIdentity(t, s, "us-east-1:p", "us-east-1:i1", base, dev("u1", base))
}

func testSigningKeys(t *testing.T, s fedid.Store) {
	k1 := fedid.SigningKey{ID: "r-1", Seq: 1, PrivateKey: []byte{1, 2, 3}, CreatedAt: base, ActiveAt: base}
	k2 := fedid.SigningKey{ID: "r-2", Seq: 2, PrivateKey: []byte{4, 5}, CreatedAt: base.Add(time.Hour), ActiveAt: base.Add(time.Hour)}
	if err := s.UpdateSigningKeys(ctx, func(old []fedid.SigningKey) ([]fedid.SigningKey, error) {
		if len(old) != 0 {
			return nil, fmt.Errorf("store not empty: %v", old)
		}
		return []fedid.SigningKey{k1, k2}, nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SigningKeys(ctx)
	if err != nil || !reflect.DeepEqual(got, []fedid.SigningKey{k1, k2}) {
		t.Fatalf("keys %+v %v", got, err)
	}
	boom := errors.New("boom")
	if err := s.UpdateSigningKeys(ctx, func([]fedid.SigningKey) ([]fedid.SigningKey, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	if got, _ := s.SigningKeys(ctx); len(got) != 2 {
		t.Fatal("failed update changed the keys")
	}
	k1.RetiredAt, k1.ExpiresAt = base.Add(2*time.Hour), base.Add(26*time.Hour)
	if err := s.UpdateSigningKeys(ctx, func([]fedid.SigningKey) ([]fedid.SigningKey, error) { return []fedid.SigningKey{k1}, nil }); err != nil {
		t.Fatal(err)
	}
	got, _ = s.SigningKeys(ctx)
	if !reflect.DeepEqual(got, []fedid.SigningKey{k1}) {
		t.Fatalf("after replace %+v", got)
	}
}

func testConcurrentSigningKeys(t *testing.T, s fedid.Store) {
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.UpdateSigningKeys(ctx, func(old []fedid.SigningKey) ([]fedid.SigningKey, error) {
				var top int64
				for _, k := range old {
					top = max(top, k.Seq)
				}
				return append(old, fedid.SigningKey{ID: fmt.Sprintf("r-%d", top+1), Seq: top + 1, PrivateKey: []byte{1}, CreatedAt: base}), nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := s.SigningKeys(ctx)
	if len(got) != 10 {
		t.Fatalf("%d keys", len(got))
	}
	for i, k := range got {
		if k.Seq != int64(i+1) {
			t.Fatalf("seqs %v", got)
		}
	}
}

// Open opens a store for a test with an engine's Open and closes it when
// the test ends (closing twice is harmless).
func Open[S interface{ Close() error }, O any](tb testing.TB, open func(context.Context, string, ...O) (S, error), where string, opts ...O) S {
	tb.Helper()
	s, err := open(context.Background(), where, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
