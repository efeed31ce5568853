package storetest

// A store made by fedid before migration 6 (compact identities and
// logins), carried forward: nothing lost.

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/codec"
)

// SchemaBeforeCompact is the last schema version whose identities and
// logins were kept by their text IDs.
const SchemaBeforeCompact = 5

// The state written at schema 5: pools of two regions, among them one
// with a short ID; identities with UUID IDs, short and long other IDs;
// developer and public logins, one login key in two pools.
var (
	fa       = false
	oldPools = []*fedid.Pool{
		{ID: "us-east-1:11111111-1111-1111-1111-111111111111", Account: "111111111111", Region: "us-east-1", Name: "one", CreatedAt: base,
			AllowUnauthenticated: true, AllowClassicFlow: &fa, DeveloperProviderName: "login.example",
			SupportedLoginProviders: map[string]string{"accounts.google.com": "client"}, Tags: map[string]string{"t": "v"},
			Roles: map[string]string{"authenticated": "arn:aws:iam::111111111111:role/a"}, Extra: map[string][]byte{"x": []byte(`{"a":1}`)}, Version: 3},
		{ID: "eu-west-1:22222222-2222-2222-2222-222222222222", Account: "111111111111", Region: "eu-west-1", Name: "two", CreatedAt: base.Add(time.Second), Version: 1},
		{ID: "us-east-1:p", Account: "222222222222", Region: "us-east-1", Name: "short", CreatedAt: base.Add(2 * time.Second), Version: 1},
	}
	oldIdentities = []*fedid.Identity{
		{ID: "us-east-1:f0000000-0000-4000-8000-000000000001", PoolID: oldPools[0].ID, Authenticated: true, CreatedAt: base, ModifiedAt: base.Add(time.Hour),
			Logins: []fedid.Login{dev("u1", base.Add(1)), dev("u2", base.Add(2)), pub("accounts.google.com", "g", base.Add(3))}},
		{ID: "us-east-1:0a000000-0000-4000-8000-000000000002", PoolID: oldPools[0].ID, CreatedAt: base, ModifiedAt: base},
		{ID: "us-east-1:0b000000-0000-4000-8000-000000000003", PoolID: oldPools[0].ID, Authenticated: true, CreatedAt: base.Add(-time.Minute), ModifiedAt: base,
			Logins: []fedid.Login{pub("accounts.google.com", "g2", base), pub("graph.facebook.com", "f", base)}}, // one instant: by provider
		{ID: "eu-west-1:c0000000-0000-4000-8000-000000000004", PoolID: oldPools[1].ID, Authenticated: true, Disabled: true, CreatedAt: base, ModifiedAt: base,
			Logins: []fedid.Login{dev("u1", base)}},
		{ID: "us-east-1:i1", PoolID: oldPools[2].ID, Authenticated: true, CreatedAt: base, ModifiedAt: base, Logins: []fedid.Login{dev("u1", base)}},
		{ID: "us-east-1:a-rather-long-identity", PoolID: oldPools[2].ID, CreatedAt: base.Add(time.Second), ModifiedAt: base},
	}
	oldAccessKey   = fedid.AccessKey{ID: "AKIAUPGRADE000000001", Secret: "upgrade-secret", Account: "111111111111", Created: base, LastUsed: base.Add(time.Minute)}
	oldSigningKey  = fedid.SigningKey{ID: "k-1", Seq: 1, PrivateKey: []byte{1, 2, 3, 0, 255}, CreatedAt: base, ActiveAt: base, RetiredAt: base.Add(time.Hour), ExpiresAt: base.Add(2 * time.Hour)}
	oldOIDC        = fedid.OIDCProvider{ARN: "arn:aws:iam::111111111111:oidc-provider/issuer.example.com", Account: "111111111111", URL: "https://issuer.example.com", ClientIDs: []string{"a"}, Thumbprints: []string{"0123"}, JWKS: []byte(`{"keys":[]}`), CreatedAt: base}
	oldSAML        = fedid.SAMLProvider{ARN: "arn:aws:iam::111111111111:saml-provider/idp", Account: "111111111111", Name: "idp", Metadata: "<EntityDescriptor/>", ValidUntil: base.Add(24 * time.Hour), CreatedAt: base}
	oldSession     = fedid.Session{AccessKeyID: "ASIAUPGRADE000000001", Secret: "session-secret", TokenHash: []byte{9, 8, 7}, Account: "111111111111", RoleARN: "arn:aws:iam::111111111111:role/a", IdentityID: oldIdentities[0].ID, PoolID: oldPools[0].ID, Tags: map[string]string{"k": "v"}, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	nsOf           = func(t time.Time) int64 { return t.UnixNano() }
	errNoSchema5DB = errors.New("storetest: WriteSchema5 needs exec")
)

// WriteSchema5 writes rows in every table of a store at schema version 5
// (SchemaBeforeCompact), as that version's statements wrote them; exec
// runs one statement with ? placeholders and its arguments.
func WriteSchema5(tb testing.TB, exec func(query string, args ...any) error) {
	tb.Helper()
	if exec == nil {
		tb.Fatal(errNoSchema5DB)
	}
	run := func(q string, args ...any) {
		tb.Helper()
		if err := exec(q, args...); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	for _, p := range oldPools {
		doc, err := codec.EncodePool(p)
		if err != nil {
			tb.Fatal(err)
		}
		run(`INSERT INTO pools (id, account, region, name, created_ns, version, config) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Account, p.Region, p.Name, nsOf(p.CreatedAt), p.Version, doc)
	}
	for _, x := range oldIdentities {
		run(`INSERT INTO identities (id, pool_id, authenticated, disabled, created_ns, modified_ns) VALUES (?, ?, ?, ?, ?, ?)`,
			x.ID, x.PoolID, x.Authenticated, x.Disabled, nsOf(x.CreatedAt), nsOf(x.ModifiedAt))
		// Linked in reverse, so that link order is not insertion order.
		for i := len(x.Logins) - 1; i >= 0; i-- {
			l := x.Logins[i]
			run(`INSERT INTO logins (pool_id, identity_id, provider, key, developer, linked_ns) VALUES (?, ?, ?, ?, ?, ?)`,
				x.PoolID, x.ID, l.Provider, l.Key, l.Developer, nsOf(l.LinkedAt))
		}
	}
	k := oldAccessKey
	run(`INSERT INTO access_keys (id, secret, account, created, last_used) VALUES (?, ?, ?, ?, ?)`, k.ID, k.Secret, k.Account, nsOf(k.Created), nsOf(k.LastUsed))
	sk := oldSigningKey
	run(`INSERT INTO signing_keys (id, seq, private_key, created_ns, active_ns, retired_ns, expires_ns) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		sk.ID, sk.Seq, sk.PrivateKey, nsOf(sk.CreatedAt), nsOf(sk.ActiveAt), nsOf(sk.RetiredAt), nsOf(sk.ExpiresAt))
	o := oldOIDC
	doc, err := codec.EncodeOIDCProvider(&o)
	if err != nil {
		tb.Fatal(err)
	}
	run(`INSERT INTO oidc_providers (arn, account, url, config, created_ns) VALUES (?, ?, ?, ?, ?)`, o.ARN, o.Account, o.URL, doc, nsOf(o.CreatedAt))
	sp := oldSAML
	run(`INSERT INTO saml_providers (arn, account, name, metadata, valid_until_ns, created_ns) VALUES (?, ?, ?, ?, ?, ?)`,
		sp.ARN, sp.Account, sp.Name, sp.Metadata, nsOf(sp.ValidUntil), nsOf(sp.CreatedAt))
	se := oldSession
	tags, _ := json.Marshal(se.Tags)
	run(`INSERT INTO sessions (access_key_id, secret, token_hash, account, role_arn, identity_id, pool_id, tags, created_ns, expires_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, se.AccessKeyID, se.Secret, se.TokenHash, se.Account, se.RoleARN, se.IdentityID, se.PoolID,
		string(tags), nsOf(se.CreatedAt), nsOf(se.ExpiresAt))
}

// CheckSchema5 checks that s, a store opened on what WriteSchema5 wrote
// (and so migrated since), holds all of it, and takes new pools,
// identities and logins beside it under the same rules.
func CheckSchema5(t *testing.T, s fedid.Store) {
	t.Helper()
	for _, p := range oldPools {
		got, err := s.GetPool(ctx, p.ID)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Fatalf("pool %s\n got %+v\nwant %+v (%v)", p.ID, got, p, err)
		}
	}
	if list, err := s.ListPools(ctx, "", "", fedid.Cursor{}, 10); err != nil || fmt.Sprint(ids(list, poolID)) != fmt.Sprint(ids(oldPools, poolID)) {
		t.Fatalf("pools %v %v", ids(list, poolID), err)
	}
	for _, x := range oldIdentities {
		got, err := s.GetIdentity(ctx, x.ID)
		if err != nil || !reflect.DeepEqual(got, x) {
			t.Fatalf("identity %s\n got %+v\nwant %+v (%v)", x.ID, got, x, err)
		}
		for _, l := range x.Logins {
			if id, err := s.FindLogin(ctx, x.PoolID, l.Provider, l.Key); err != nil || id != x.ID {
				t.Fatalf("login %s/%s of %s: %q %v", l.Provider, l.Key, x.ID, id, err)
			}
		}
	}
	// An ID with another region's prefix is no identity of the store.
	if _, err := s.GetIdentity(ctx, "eu-west-1:f0000000-0000-4000-8000-000000000001"); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("identity under another region: %v", err)
	}
	list, err := s.ListIdentities(ctx, oldPools[0].ID, fedid.Cursor{}, 10, false)
	want := []*fedid.Identity{oldIdentities[2], oldIdentities[1], oldIdentities[0]} // by CreatedAt, then ID
	if err != nil || !reflect.DeepEqual(list, want) {
		t.Fatalf("identities of %s: %v %v", oldPools[0].ID, ids(list, identityID), err)
	}
	if list, err := s.ListIdentities(ctx, oldPools[2].ID, fedid.Cursor{}, 10, true); err != nil || fmt.Sprint(ids(list, identityID)) != "[us-east-1:i1 us-east-1:a-rather-long-identity]" {
		t.Fatalf("visible identities of %s: %v %v", oldPools[2].ID, ids(list, identityID), err)
	}
	if k, err := s.GetAccessKey(ctx, oldAccessKey.ID); err != nil || !reflect.DeepEqual(*k, oldAccessKey) {
		t.Fatalf("access key %+v %v", k, err)
	}
	if keys, err := s.SigningKeys(ctx); err != nil || !reflect.DeepEqual(keys, []fedid.SigningKey{oldSigningKey}) {
		t.Fatalf("signing keys %+v %v", keys, err)
	}
	if p, err := s.GetOIDCProvider(ctx, oldOIDC.ARN); err != nil || !reflect.DeepEqual(*p, oldOIDC) {
		t.Fatalf("OIDC provider %+v %v", p, err)
	}
	if p, err := s.GetSAMLProvider(ctx, oldSAML.ARN); err != nil || !reflect.DeepEqual(*p, oldSAML) {
		t.Fatalf("SAML provider %+v %v", p, err)
	}
	if se, err := s.GetSession(ctx, oldSession.AccessKeyID); err != nil || !reflect.DeepEqual(*se, oldSession) {
		t.Fatalf("session %+v %v", se, err)
	}

	// New rows beside the old, under the old rules.
	p := mkPool(t, s, "us-east-1:33333333-3333-3333-3333-333333333333", "111111111111", "us-east-1", base)
	x := mkIdentity(t, s, p.ID, "us-east-1:d0000000-0000-4000-8000-000000000005", base, dev("u1", base))
	if id, err := s.FindLogin(ctx, p.ID, "login.example", "u1"); err != nil || id != x.ID {
		t.Fatalf("new login: %q %v", id, err)
	}
	err = s.Update(ctx, func(tx fedid.Tx) error {
		return tx.AddLogin(ctx, oldPools[0].ID, oldIdentities[1].ID, dev("u1", base))
	})
	if !errors.Is(err, fedid.ErrDuplicate) {
		t.Fatalf("old login taken again: %v", err)
	}
	err = s.Update(ctx, func(tx fedid.Tx) error {
		return tx.AddLogin(ctx, oldPools[0].ID, oldIdentities[0].ID, pub("accounts.google.com", "g3", base))
	})
	if !errors.Is(err, fedid.ErrDuplicate) {
		t.Fatalf("second public login of one provider: %v", err)
	}
	update(t, s, func(tx fedid.Tx) error { return tx.DeletePool(ctx, oldPools[0].ID) })
	if _, err := s.GetIdentity(ctx, oldIdentities[0].ID); !errors.Is(err, fedid.ErrNotFound) {
		t.Fatalf("identity of a deleted pool: %v", err)
	}
	if got, err := s.GetIdentity(ctx, oldIdentities[3].ID); err != nil || !reflect.DeepEqual(got, oldIdentities[3]) {
		t.Fatalf("identity of another pool after the delete: %+v %v", got, err)
	}
}
