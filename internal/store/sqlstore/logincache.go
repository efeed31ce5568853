package sqlstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedid/fedid"
)

// LoginCache remembers which identity holds a login, so that the hot path
// of GetOpenIdTokenForDeveloperIdentity (a known developer user) reads no
// database. An entry is good only while nothing may have changed logins
// since it was read:
//
//   - every write transaction of this process that unlinked logins
//     invalidates it when it ends, whatever its outcome (the engine calls
//     Invalidate), and entries read under an older generation are
//     ignored;
//   - a change made by another process or instance is seen through the
//     engine's version of the logins (SQLite: PRAGMA data_version, which
//     changes whenever another connection commits; PostgreSQL: a counter
//     that every transaction deleting or moving logins adds one to), read
//     at most every LoginCacheWatch, and before the first
//     lookup after a quieter spell, so such a change is seen within
//     LoginCacheWatch.
//
// Only found logins are kept (a login that appears is read from the
// database until then). Only a transaction that unlinks logins (deletes a
// pool, an identity or a login, moves logins, resets) can make a found
// login wrong, so only those invalidate: creating identities and linking
// new logins, the bulk of the writes, leave the cache warm. The cache holds
// at most LoginCacheBytes of entries (by their strings' lengths and a fixed
// overhead), then starts over.
type LoginCache struct {
	gen atomic.Uint64
	// hits and misses count finds answered from memory and from the
	// database (for /metrics).
	hits, misses atomic.Uint64

	mu    sync.RWMutex
	m     map[loginKey]loginEntry
	bytes int // the entries' estimated size

	// version reads the engine's version of the logins.
	version   func(context.Context) (int64, error)
	watchMu   sync.Mutex
	lastWatch atomic.Int64 // Unix ns of the last version read
	seen      int64        // the version last read
}

type loginKey struct{ pool, provider, key string }

type loginEntry struct {
	identity string
	gen      uint64
}

const (
	// LoginCacheBytes bounds the cache's memory: about 300,000 logins of
	// fedid's usual sizes.
	LoginCacheBytes = 64 << 20
	// entryOverhead is an entry's memory beyond its strings' bytes: the
	// map slot, four string headers, the generation.
	entryOverhead = 120
	// LoginCacheWatch is how often, at most, the version is read.
	LoginCacheWatch = 5 * time.Millisecond
)

// NewLoginCache returns an empty cache that reads the logins' version
// with version.
func NewLoginCache(version func(context.Context) (int64, error)) *LoginCache {
	return &LoginCache{m: map[loginKey]loginEntry{}, version: version}
}

// Invalidate marks every entry stale; the engine calls it when a write
// transaction that unlinked logins ends.
func (c *LoginCache) Invalidate() { c.gen.Add(1) }

// observe reads data_version when it is due; a change made by another
// connection invalidates the cache. A failed read invalidates it too.
func (c *LoginCache) observe(ctx context.Context) {
	now := time.Now().UnixNano()
	if now-c.lastWatch.Load() < int64(LoginCacheWatch) {
		return
	}
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if now-c.lastWatch.Load() < int64(LoginCacheWatch) {
		return // another goroutine read it meanwhile
	}
	if v, err := c.version(ctx); err != nil || v != c.seen {
		c.seen = v
		c.Invalidate()
	}
	c.lastWatch.Store(time.Now().UnixNano())
}

// Find returns the identity holding the login, from the cache or from
// read.
func (c *LoginCache) Find(ctx context.Context, poolID, provider, key string, read func() (string, error)) (string, error) {
	k := loginKey{poolID, provider, key}
	c.observe(ctx)
	g := c.gen.Load()
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if ok && e.gen == g {
		c.hits.Add(1)
		return e.identity, nil
	}
	c.misses.Add(1)
	id, err := read()
	if err != nil || id == "" {
		return id, err
	}
	size := len(k.pool) + len(k.provider) + len(k.key) + len(id) + entryOverhead
	c.mu.Lock()
	if c.bytes+size > LoginCacheBytes {
		clear(c.m)
		c.bytes = 0
	}
	if _, had := c.m[k]; !had {
		c.bytes += size
	}
	// Tagged with the generation from before the read: a write that ended
	// during the read makes the entry stale at once.
	c.m[k] = loginEntry{identity: id, gen: g}
	c.mu.Unlock()
	return id, nil
}

// Stats reports how many finds the cache answered and how many read the
// database.
func (c *LoginCache) Stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

// Size reports the entries and their estimated bytes.
func (c *LoginCache) Size() (entries, bytes int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m), c.bytes
}

// WatchUnlinks wraps a transaction so that *unlinked is set when it
// unlinks logins (the writes that can make a LoginCache wrong); the other
// writes pass through.
func WatchUnlinks(tx fedid.Tx, unlinked *bool) fedid.Tx { return unlinkWatch{tx, unlinked} }

type unlinkWatch struct {
	fedid.Tx
	unlinked *bool
}

// SQLTx lets the shared layer reach the transaction it wraps.
func (u unlinkWatch) SQLTx() *Tx { return AsTx(u.Tx) }

func (u unlinkWatch) DeletePool(ctx context.Context, id string) error {
	*u.unlinked = true
	return u.Tx.DeletePool(ctx, id)
}

func (u unlinkWatch) DeleteIdentity(ctx context.Context, id string) error {
	*u.unlinked = true
	return u.Tx.DeleteIdentity(ctx, id)
}

func (u unlinkWatch) RemoveLogin(ctx context.Context, identityID, provider, key string) error {
	*u.unlinked = true
	return u.Tx.RemoveLogin(ctx, identityID, provider, key)
}

func (u unlinkWatch) MoveLogins(ctx context.Context, from, to string) error {
	*u.unlinked = true
	return u.Tx.MoveLogins(ctx, from, to)
}

func (u unlinkWatch) Reset(ctx context.Context) error {
	*u.unlinked = true
	return u.Tx.Reset(ctx)
}
