package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/jackc/pgx/v5"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/keys"
	"github.com/fedid/fedid/internal/store/postgres"
	"github.com/fedid/fedid/internal/store/postgres/pgtest"
)

// twoInstances starts two fedid servers, each with its own connection
// pool, on one PostgreSQL schema.
func twoInstances(t *testing.T) (*server, *server, string) {
	url := pgtest.Schema(t)
	a := start(t, startOpts{db: url, keyReload: 100 * time.Millisecond})
	b := start(t, startOpts{db: url, keyReload: 100 * time.Millisecond})
	return a, b, url
}

// checkInvariants asserts the store's linking invariants (spec 6.7) with
// SQL: no disabled identity owns a login, no identity holds two users of
// one public provider, none holds more than 20 logins.
func checkInvariants(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for name, q := range map[string]string{
		"logins on disabled identities": `SELECT COUNT(*) FROM logins l JOIN identities i ON i.id = l.identity WHERE i.disabled`,
		"orphaned logins":               `SELECT COUNT(*) FROM logins l LEFT JOIN identities i ON i.id = l.identity WHERE i.id IS NULL`,
		"identities over 20 logins":     `SELECT COUNT(*) FROM (SELECT identity FROM logins GROUP BY identity HAVING COUNT(*) > 20) x`,
	} {
		var n int
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%s: %d", name, n)
		}
	}
}

func TestPostgresTwoInstancesShareState(t *testing.T) {
	a, b, _ := twoInstances(t)
	ctx := context.Background()
	p := createPool(t, a.testClient(), "shared")
	d, err := b.testClient().DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: p.IdentityPoolId})
	if err != nil || aws.ToString(d.IdentityPoolName) != "shared" {
		t.Fatalf("pool created on a, described on b: %v %+v", err, d)
	}
	tok, err := devToken(t, a.testClient(), aws.ToString(p.IdentityPoolId), "u")
	if err != nil {
		t.Fatal(err)
	}
	verifyToken(t, b, aws.ToString(tok.Token)) // a's token against b's JWKS
	again, err := devToken(t, b.testClient(), aws.ToString(p.IdentityPoolId), "u")
	if err != nil || aws.ToString(again.IdentityId) != aws.ToString(tok.IdentityId) {
		t.Fatalf("same user through b: %v", err)
	}
}

// TestPostgresRaceNewUser: the same new developer user asked for through
// both instances at once ends with exactly one identity.
func TestPostgresRaceNewUser(t *testing.T) {
	a, b, url := twoInstances(t)
	pool := aws.ToString(createPool(t, a.testClient(), "race").IdentityPoolId)
	clients := []*ci.Client{a.testClient(), b.testClient()}
	for round := range 5 {
		user := fmt.Sprintf("racer-%d", round)
		ids := make([]string, 20)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := devToken(t, clients[i%2], pool, user)
				if err != nil {
					t.Errorf("call %d: %v", i, err)
					return
				}
				ids[i] = aws.ToString(out.IdentityId)
			}()
		}
		wg.Wait()
		for i := range ids {
			if ids[i] != ids[0] {
				t.Fatalf("round %d: identities %s and %s for one user", round, ids[0], ids[i])
			}
		}
	}
	l, err := a.testClient().ListIdentities(context.Background(), &ci.ListIdentitiesInput{IdentityPoolId: &pool, MaxResults: aws.Int32(60)})
	if err != nil || len(l.Identities) != 5 {
		t.Fatalf("%d identities for 5 users (%v)", len(l.Identities), err)
	}
	checkInvariants(t, url)
}

// TestPostgresRaceMergeLinkUnlink runs merges in both directions, unlinks
// and links of the same users through both instances at once, then checks
// that no login is orphaned or held by a disabled identity.
func TestPostgresRaceMergeLinkUnlink(t *testing.T) {
	a, b, url := twoInstances(t)
	pool := aws.ToString(createPool(t, a.testClient(), "merge").IdentityPoolId)
	clients := []*ci.Client{a.testClient(), b.testClient()}
	ctx := context.Background()
	for round := range 10 {
		x, y := fmt.Sprintf("x%d", round), fmt.Sprintf("y%d", round)
		if _, err := devToken(t, clients[0], pool, x); err != nil {
			t.Fatal(err)
		}
		if _, err := devToken(t, clients[1], pool, y); err != nil {
			t.Fatal(err)
		}
		guest, err := clients[0].GetId(ctx, &ci.GetIdInput{IdentityPoolId: &pool})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		ops := []func(c *ci.Client) error{
			func(c *ci.Client) error {
				_, err := c.MergeDeveloperIdentities(ctx, &ci.MergeDeveloperIdentitiesInput{IdentityPoolId: &pool,
					DeveloperProviderName: aws.String(devProvider), SourceUserIdentifier: &x, DestinationUserIdentifier: &y})
				return err
			},
			func(c *ci.Client) error {
				_, err := c.MergeDeveloperIdentities(ctx, &ci.MergeDeveloperIdentitiesInput{IdentityPoolId: &pool,
					DeveloperProviderName: aws.String(devProvider), SourceUserIdentifier: &y, DestinationUserIdentifier: &x})
				return err
			},
			func(c *ci.Client) error {
				// Link a new user to the guest, then merge it away.
				z := "z-" + x
				if _, err := devToken(t, c, pool, z, func(in *ci.GetOpenIdTokenForDeveloperIdentityInput) { in.IdentityId = guest.IdentityId }); err != nil {
					return err
				}
				_, err := c.MergeDeveloperIdentities(ctx, &ci.MergeDeveloperIdentitiesInput{IdentityPoolId: &pool,
					DeveloperProviderName: aws.String(devProvider), SourceUserIdentifier: &z, DestinationUserIdentifier: &x})
				return err
			},
			func(c *ci.Client) error { _, err := devToken(t, c, pool, x); return err },
			func(c *ci.Client) error { _, err := devToken(t, c, pool, y); return err },
		}
		for i, op := range ops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := op(clients[i%2]); err != nil {
					// A lost race may legitimately find a user gone or an
					// identity disabled; a server error never.
					if code := errorCode(err); code == "InternalErrorException" || code == "" {
						t.Errorf("round %d op %d: %v", round, i, err)
					}
				}
			}()
		}
		wg.Wait()
		// x and y end on one identity, whichever merge won.
		ox, _ := devToken(t, clients[0], pool, x)
		oy, _ := devToken(t, clients[1], pool, y)
		if aws.ToString(ox.IdentityId) != aws.ToString(oy.IdentityId) {
			t.Fatalf("round %d: after merges x is on %s and y on %s", round, aws.ToString(ox.IdentityId), aws.ToString(oy.IdentityId))
		}
	}
	checkInvariants(t, url)
}

// TestPostgresRotationOnBoth: a rotation triggered on both instances at
// once (as `fedid signing-keys rotate` on two hosts) makes one new key;
// both instances then sign with it and publish both keys.
func TestPostgresRotationOnBoth(t *testing.T) {
	a, b, url := twoInstances(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := postgres.Open(ctx, url, storeOpts()...)
			if err != nil {
				t.Error(err)
				return
			}
			defer st.Close()
			m := keys.NewManager(st, fedid.SystemClock{}, keys.Options{Region: "us-east-1", PublishLead: 400 * time.Millisecond})
			if err := m.Init(ctx); err != nil {
				t.Error(err)
				return
			}
			if err := m.RotateFrom(ctx, 1); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st, err := postgres.Open(ctx, url, storeOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := st.SigningKeys(ctx)
	st.Close()
	if len(ks) != 2 {
		t.Fatalf("%d keys after two concurrent rotations, want 2", len(ks))
	}
	pool := aws.ToString(createPool(t, a.testClient(), "rot").IdentityPoolId)
	deadline := time.Now().Add(5 * time.Second)
	for _, s := range []*server{a, b} {
		for {
			out, err := devToken(t, s.testClient(), pool, "u")
			if err != nil {
				t.Fatal(err)
			}
			header, _ := verifyToken(t, a, aws.ToString(out.Token))
			verifyToken(t, b, aws.ToString(out.Token))
			if header["kid"] == "us-east-1-2" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still signs with %v", s.URL, header["kid"])
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestPostgresConnectionLoss cuts every connection of one instance in the
// middle of its work: affected requests fail with InternalErrorException
// at worst, and the instance recovers without a restart.
func TestPostgresConnectionLoss(t *testing.T) {
	url := pgtest.Schema(t)
	s := start(t, startOpts{db: url})
	c := s.testClient()
	pool := aws.ToString(createPool(t, c, "loss").IdentityPoolId)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	cut := func() int {
		var n int
		err := admin.QueryRow(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
			schemaOf(url)).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 50 {
		if _, err := devToken(t, c, pool, fmt.Sprintf("before-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := cut(); n == 0 {
		t.Fatal("no connection of the instance found to cut")
	}
	failed := 0
	for i := range 50 {
		_, err := devToken(t, c, pool, fmt.Sprintf("after-%d", i))
		if err != nil {
			if code := errorCode(err); code != "InternalErrorException" {
				t.Fatalf("after the cut: %v", err)
			}
			failed++
		}
	}
	if failed > 10 {
		t.Fatalf("%d of 50 requests failed after the cut; the pool did not recover", failed)
	}
	// Every identity acknowledged before the cut is still there.
	for i := range 50 {
		if _, err := devToken(t, c, pool, fmt.Sprintf("before-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("requests failed right after the cut: %d of 50", failed)
}
