// Package auth decides who may sign requests: it registers the start-up
// access key, decides whether the loopback test key test/test is accepted,
// and resolves an access key ID to its credential for SigV4 verification:
// the test key, temporary credentials fedid issued (ASIA…, until they
// expire on the injected clock), or a stored access key (cached briefly).
package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/ttlcache"
)

// TestKeyID and TestSecret are the loopback default credentials, what
// LocalStack users already type.
const (
	TestKeyID  = "test"
	TestSecret = "test"
)

// CacheTTL bounds how long a replaced or deleted access key keeps working
// in a running server (`fedid keys delete` runs in another process, which
// cannot reach this cache). Unknown keys are never cached.
const CacheTTL = 5 * time.Second

// FlushEvery is how often Run writes the recorded last use of access keys:
// one small UPDATE per key used in the period, never a write per request
// (the hot path stays read-only).
const FlushEvery = time.Minute

// Store is what auth needs of the store.
type Store interface {
	GetAccessKey(ctx context.Context, id string) (*fedid.AccessKey, error)
	PutAccessKey(ctx context.Context, k fedid.AccessKey) error
	CountAccessKeys(ctx context.Context) (int, error)
	TouchAccessKey(ctx context.Context, id string, t time.Time) error
	GetSession(ctx context.Context, accessKeyID string) (*fedid.Session, error)
}

// Options configure the keys.
type Options struct {
	// AccessKey, when its ID is set, is registered at start.
	AccessKey fedid.AccessKey
	// Addr is the listen address; the test key is offered only on a
	// loopback one, and only when no access key exists.
	Addr string
	// Sessions resolves temporary credentials fedid issued (local
	// credentials mode).
	Sessions bool
	// Dev accepts test/test on any address, beside any other key (for CI
	// containers, where the address is not loopback), with a loud warning.
	Dev    bool
	Clock  fedid.Clock
	Logger *slog.Logger
}

// Keys resolves access key IDs.
type Keys struct {
	store    Store
	clock    fedid.Clock
	sessions bool
	testKey  bool
	cache    *ttlcache.Cache[*fedid.Credential]
	test     *fedid.Credential
	log      *slog.Logger

	mu   sync.Mutex
	used map[string]time.Time // last verified use per stored key, not yet written
}

// Open registers the start-up key and decides on the test key: accepted
// when no access key is configured or stored and the address is loopback;
// with none on another address, Open refuses, saying what to do.
func Open(ctx context.Context, st Store, o Options) (*Keys, error) {
	if o.Clock == nil {
		o.Clock = fedid.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	k := &Keys{store: st, clock: o.Clock, sessions: o.Sessions, log: o.Logger, used: map[string]time.Time{},
		cache: ttlcache.New[*fedid.Credential](CacheTTL, 10000),
		test:  &fedid.Credential{Secret: TestSecret, Account: fedid.DefaultAccountID, ARN: RootARN(fedid.DefaultAccountID)}}
	if o.Dev {
		k.testKey = true
		o.Logger.Warn("DEVELOPMENT MODE (--dev): the test credentials test/test are accepted for account " +
			fedid.DefaultAccountID + " on " + o.Addr + ", from anyone who can reach it; never use --dev in production")
	}
	if o.AccessKey.ID != "" {
		ak := o.AccessKey
		if ak.Created.IsZero() {
			ak.Created = o.Clock.Now()
		}
		if err := st.PutAccessKey(ctx, ak); err != nil {
			return nil, fmt.Errorf("register access key: %w", err)
		}
		o.Logger.Info("access key registered", "access_key_id", ak.ID, "account", ak.Account)
		return k, nil
	}
	n, err := st.CountAccessKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("count access keys: %w", err)
	}
	switch {
	case o.Dev:
	case n > 0:
		o.Logger.Info(fmt.Sprintf("%d access %s stored; test/test is refused (it is accepted only while no key exists, or with --dev)", n, plural(n, "key is", "keys are")))
	case IsLoopback(o.Addr):
		k.testKey = true
		o.Logger.Warn("no access key configured: accepting the test credentials test/test for account " +
			fedid.DefaultAccountID + " because the address is loopback; set FEDID_ACCESS_KEY_ID and FEDID_SECRET_ACCESS_KEY for anything else")
	default:
		return nil, fmt.Errorf("refusing to listen on %s without an access key: set FEDID_ACCESS_KEY_ID, FEDID_SECRET_ACCESS_KEY (and FEDID_ACCOUNT_ID), or create one with `fedid keys create --account ID`, or listen on a loopback address", o.Addr)
	}
	return k, nil
}

// Lookup returns the credential of an access key ID, or an error wrapping
// fedid.ErrNotFound (sigv4.SecretLookup).
func (k *Keys) Lookup(ctx context.Context, id string) (*fedid.Credential, error) {
	if k.testKey && id == TestKeyID {
		return k.test, nil
	}
	if strings.HasPrefix(id, "ASIA") && k.sessions {
		se, err := k.store.GetSession(ctx, id)
		if err != nil {
			return nil, err
		}
		if !k.clock.Now().Before(se.ExpiresAt) {
			return nil, fmt.Errorf("session %s expired: %w", id, fedid.ErrNotFound)
		}
		return &fedid.Credential{Secret: se.Secret, Account: se.Account, TokenHash: se.TokenHash, ARN: fedid.AssumedRoleARN(se.RoleARN)}, nil
	}
	if c, ok := k.cache.Get(id); ok {
		return c, nil
	}
	ak, err := k.store.GetAccessKey(ctx, id)
	if err != nil {
		return nil, err
	}
	c := &fedid.Credential{Secret: ak.Secret, Account: ak.Account, ARN: RootARN(ak.Account),
		Verified: func() { k.markUsed(id) }}
	k.cache.Put(id, c)
	return c, nil
}

// markUsed records in memory that a request signed with a stored key was
// verified; Flush writes it.
func (k *Keys) markUsed(id string) {
	now := k.clock.Now()
	k.mu.Lock()
	k.used[id] = now
	k.mu.Unlock()
}

// Run writes the recorded key use every FlushEvery until ctx ends. The
// caller flushes once more at shutdown, after the server has stopped and
// before the store closes (Flush), so the last minute is not lost.
func (k *Keys) Run(ctx context.Context) {
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			k.Flush(ctx)
		}
	}
}

// Flush writes the last use recorded since the previous flush, one UPDATE
// per key, and returns how many keys it wrote. A failed write is kept for
// the next flush unless a newer use replaced it meanwhile.
func (k *Keys) Flush(ctx context.Context) int {
	k.mu.Lock()
	pending := k.used
	k.used = make(map[string]time.Time, len(pending))
	k.mu.Unlock()
	n := 0
	for id, at := range pending {
		if err := k.store.TouchAccessKey(ctx, id, at); err != nil {
			k.log.Warn("record access key use", "access_key_id", id, "err", err)
			k.mu.Lock()
			if _, newer := k.used[id]; !newer {
				k.used[id] = at
			}
			k.mu.Unlock()
			continue
		}
		n++
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// TestKey reports whether test/test is accepted.
func (k *Keys) TestKey() bool { return k.testKey }

// RootARN is the principal of an account's access keys.
func RootARN(account string) string { return "arn:" + fedid.Partition + ":iam::" + account + ":root" }

// IsLoopback reports whether a listen address only accepts local
// connections.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
