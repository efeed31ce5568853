package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"github.com/fedid/fedid/internal/store/postgres/pgtest"
)

// BenchmarkDeveloperToken measures GetOpenIdTokenForDeveloperIdentity end
// to end through the real SDK client over loopback HTTP, on SQLite and on
// PostgreSQL in the same run: for a developer user already known (the hot
// path), and for a new user each call (an identity created per call).
func BenchmarkDeveloperToken(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			db := filepath.Join(b.TempDir(), "bench.db")
			if backend == "postgres" {
				db = pgtest.Schema(b)
			}
			s := start(b, startOpts{db: db})
			c := s.testClient()
			pool := aws.ToString(createPool(b, c, "bench").IdentityPoolId)
			ctx := context.Background()
			if _, err := devToken(b, c, pool, "known"); err != nil {
				b.Fatal(err)
			}
			b.Run("known-user", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := devToken(b, c, pool, "known"); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
			var n atomic.Int64
			b.Run("new-user", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						u := fmt.Sprintf("new-%d", n.Add(1))
						if _, err := c.GetOpenIdTokenForDeveloperIdentity(ctx, &ci.GetOpenIdTokenForDeveloperIdentityInput{
							IdentityPoolId: &pool, Logins: map[string]string{devProvider: u}}); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		})
	}
}
