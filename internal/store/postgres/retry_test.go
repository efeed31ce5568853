package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/postgres/pgtest"
	"github.com/fedid/fedid/internal/store/storetest"
)

// TestContendedCreatesAllCommit: many writers creating distinct identities
// with distinct logins in a fresh, empty schema (where the planner scans
// whole tables and SERIALIZABLE's predicate locks are coarse, as right
// after a PostgreSQL restart without statistics) race each other into
// serialization failures. Every one of them must still commit: retrying
// until a deadline, not a fixed number of times.
func TestContendedCreatesAllCommit(t *testing.T) {
	const (
		writers = 24
		creates = 5
		rounds  = 5
	)
	for round := range rounds {
		// As many connections as writers: all of them in flight at once.
		s := storetest.Open(t, Open, pgtest.Schema(t)+fmt.Sprintf("&pool_max_conns=%d", writers))
		ctx := context.Background()
		now := time.Now()
		pool := &fedid.Pool{ID: "us-east-1:" + uuid.NewString(), Account: fedid.DefaultAccountID, Region: "us-east-1",
			Name: "contended", CreatedAt: now, DeveloperProviderName: "login.example"}
		if err := s.Update(ctx, func(tx fedid.Tx) error { return tx.CreatePool(ctx, pool) }); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failed []error
		start := make(chan struct{})
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for j := range creates {
					user := fmt.Sprintf("user-%d-%d-%d", round, i, j)
					// What GetOpenIdTokenForDeveloperIdentity does for a new
					// developer user: read the pool, look the login up, create.
					err := s.Update(ctx, func(tx fedid.Tx) error {
						if _, err := tx.GetPool(ctx, pool.ID); err != nil {
							return err
						}
						if _, err := tx.FindLogin(ctx, pool.ID, "login.example", user); !errors.Is(err, fedid.ErrNotFound) {
							return fmt.Errorf("find login: %v", err)
						}
						return tx.CreateIdentity(ctx, &fedid.Identity{
							ID: "us-east-1:" + uuid.NewString(), PoolID: pool.ID, Authenticated: true,
							CreatedAt: now, ModifiedAt: now,
							Logins: []fedid.Login{{Provider: "login.example", Key: user, Developer: true, LinkedAt: now}},
						})
					})
					if err != nil {
						mu.Lock()
						failed = append(failed, err)
						mu.Unlock()
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		s.Close() // the server's connections are shared with other tests
		for _, err := range failed {
			t.Errorf("round %d: %v", round, err)
		}
		if len(failed) > 0 {
			t.Fatalf("round %d: %d of %d transactions failed", round, len(failed), writers*creates)
		}
	}
}

// TestRetryGivesUpAtDeadline: a transaction that keeps failing to
// serialize is retried with backoff until the retry budget (or the
// context's deadline, if earlier) runs out; the error wraps the cause.
func TestRetryGivesUpAtDeadline(t *testing.T) {
	s := storetest.Open(t, Open, pgtest.Schema(t))
	conflict := &pgconn.PgError{Severity: "ERROR", Code: "40001", Message: "could not serialize access"}
	for _, tc := range []struct {
		name   string
		budget time.Duration
		ctx    time.Duration
		want   time.Duration
	}{
		{"budget", 300 * time.Millisecond, 0, 300 * time.Millisecond},
		{"context deadline", 10 * time.Second, 250 * time.Millisecond, 250 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.retryFor = tc.budget
			ctx := context.Background()
			if tc.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctx)
				defer cancel()
			}
			attempts := 0
			start := time.Now()
			err := s.Update(ctx, func(tx fedid.Tx) error { attempts++; return conflict })
			took := time.Since(start)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "40001" {
				t.Fatalf("error %v does not wrap the serialization failure", err)
			}
			if attempts < 5 {
				t.Errorf("%d attempts in %v: backoff starts too large", attempts, took)
			}
			if took > tc.want+time.Second { // generous: the machine may be loaded
				t.Errorf("gave up after %v, budget %v", took, tc.want)
			}
			if took < tc.want-100*time.Millisecond {
				t.Errorf("gave up after %v, before the budget %v", took, tc.want)
			}
			t.Logf("%d attempts in %v: %v", attempts, took, err)
		})
	}
}
