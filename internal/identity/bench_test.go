package identity_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/identity"
	"github.com/fedid/fedid/internal/keys"
	"github.com/fedid/fedid/internal/store/sqlite"
)

// BenchmarkDeveloperToken measures GetOpenIdTokenForDeveloperIdentity in
// the service alone (no HTTP, no SigV4): validation, the store reads and
// the token, for a known user and for a new user each call.
func BenchmarkDeveloperToken(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	km := keys.NewManager(st, nil, keys.Options{Region: "us-east-1"})
	if err := km.Init(ctx); err != nil {
		b.Fatal(err)
	}
	svc := identity.New(identity.Deps{Store: st, Signer: km}, identity.Config{Issuer: "http://127.0.0.1:9600"})
	c := fedid.Caller{Account: "000000000000", Region: "us-east-1"}
	name, allow, dev := "bench", true, "bench.login"
	p, err := svc.CreateIdentityPool(ctx, c, &identity.CreateIdentityPoolInput{IdentityPoolName: &name,
		AllowUnauthenticatedIdentities: &allow, DeveloperProviderName: &dev})
	if err != nil {
		b.Fatal(err)
	}
	req := func(user string) *identity.GetOpenIdTokenForDeveloperIdentityInput {
		return &identity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: &p.IdentityPoolId, Logins: map[string]string{dev: user}}
	}
	if _, err := svc.GetOpenIdTokenForDeveloperIdentity(ctx, c, req("known")); err != nil {
		b.Fatal(err)
	}
	b.Run("known-user", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := svc.GetOpenIdTokenForDeveloperIdentity(ctx, c, req("known")); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("new-user", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := svc.GetOpenIdTokenForDeveloperIdentity(ctx, c, req("new-"+strconv.Itoa(i))); err != nil {
				b.Fatal(err)
			}
		}
	})
}
