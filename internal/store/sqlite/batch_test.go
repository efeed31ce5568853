package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/storetest"
)

// queued waits until n calls wait for the writer.
func queued(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.wmu.Lock()
		k := len(s.wqueue)
		s.wmu.Unlock()
		if k >= n {
			return
		}
	}
	t.Fatalf("fewer than %d calls queued for the writer", n)
}

// Concurrent writes share one transaction, and each keeps the meaning of
// its own: a failed or panicking call leaves nothing, the others commit,
// a call whose context ended while it waited does not run.
func TestWritesCommitInGroups(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, Open, filepath.Join(t.TempDir(), "fedid.db"))
	defer s.Close()
	now := time.Now()
	p := &fedid.Pool{ID: "us-east-1:p", Account: "000000000000", Region: "us-east-1", Name: "p", DeveloperProviderName: "dev", CreatedAt: now}
	if err := s.Update(ctx, func(tx fedid.Tx) error { return tx.CreatePool(ctx, p) }); err != nil {
		t.Fatal(err)
	}
	create := func(tx fedid.Tx, user string) error {
		return tx.CreateIdentity(ctx, &fedid.Identity{ID: "us-east-1:" + user, PoolID: p.ID, Authenticated: true, CreatedAt: now, ModifiedAt: now,
			Logins: []fedid.Login{{Provider: "dev", Key: user, Developer: true, LinkedAt: now}}})
	}
	calls0, commits0 := s.WriteStats()

	// The first call holds the writer until the others wait.
	hold := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 0)
	var mu sync.Mutex
	run := func(ctx context.Context, fn func(fedid.Tx) error) {
		defer wg.Done()
		err := s.Update(ctx, fn)
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	wg.Add(1)
	go run(ctx, func(tx fedid.Tx) error { <-hold; return create(tx, "first") })
	for { // wait for the first call to lead
		s.wmu.Lock()
		w := s.writing
		s.wmu.Unlock()
		if w {
			break
		}
		time.Sleep(time.Millisecond)
	}
	const good = 10
	for i := range good {
		wg.Add(1)
		go run(ctx, func(tx fedid.Tx) error { return create(tx, fmt.Sprint("good-", i)) })
	}
	failed := errors.New("the caller gave up")
	wg.Add(1)
	go run(ctx, func(tx fedid.Tx) error {
		if err := create(tx, "failed"); err != nil {
			return err
		}
		return failed
	})
	panicked := make(chan any, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() { panicked <- recover() }()
		_ = s.Update(ctx, func(tx fedid.Tx) error {
			if err := create(tx, "panicked"); err != nil {
				return err
			}
			panic("a bug in a write")
		})
	}()
	gone, cancel := context.WithCancel(ctx)
	wg.Add(1)
	go run(gone, func(tx fedid.Tx) error { return create(tx, "cancelled") })
	// A second call for a user created earlier in the same batch fails on
	// the login's key, as in a transaction of its own, and leaves nothing.
	queued(t, s, good+3)
	cancel()
	wg.Add(1)
	go run(ctx, func(tx fedid.Tx) error {
		return tx.CreateIdentity(ctx, &fedid.Identity{ID: "us-east-1:again", PoolID: p.ID, Authenticated: true, CreatedAt: now, ModifiedAt: now,
			Logins: []fedid.Login{{Provider: "dev", Key: "good-0", Developer: true, LinkedAt: now}}})
	})
	queued(t, s, good+4)
	close(hold)
	wg.Wait()

	if p := <-panicked; p != "a bug in a write" {
		t.Fatalf("the panic reached its caller as %v", p)
	}
	var ok, failedSeen, cancelled, duplicate int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, failed):
			failedSeen++
		case errors.Is(err, context.Canceled):
			cancelled++
		case errors.Is(err, fedid.ErrDuplicate):
			duplicate++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != good+1 || failedSeen != 1 || cancelled != 1 || duplicate != 1 {
		t.Fatalf("results: %d ok, %d failed, %d cancelled, %d duplicate: %v", ok, failedSeen, cancelled, duplicate, errs)
	}
	for _, user := range []string{"first", "good-0", "good-9"} {
		if id, err := s.rd().FindLogin(ctx, p.ID, "dev", user); err != nil || id != "us-east-1:"+user {
			t.Errorf("%s: %q %v", user, id, err)
		}
	}
	for _, user := range []string{"failed", "panicked", "cancelled"} {
		if id, err := s.rd().FindLogin(ctx, p.ID, "dev", user); !errors.Is(err, fedid.ErrNotFound) {
			t.Errorf("%s was written: %q %v", user, id, err)
		}
	}
	if _, err := s.GetIdentity(ctx, "us-east-1:again"); !errors.Is(err, fedid.ErrNotFound) {
		t.Errorf("the duplicate's identity: %v", err)
	}
	calls, commits := s.WriteStats()
	if calls-calls0 != good+5 || commits-commits0 != 2 {
		t.Fatalf("%d calls in %d transactions, want %d in 2", calls-calls0, commits-commits0, good+5)
	}
}
