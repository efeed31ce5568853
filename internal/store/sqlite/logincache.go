package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// loginCache remembers which identity holds a login, so that the hot path
// of GetOpenIdTokenForDeveloperIdentity (a known developer user) reads no
// database. An entry is good only while nothing may have changed logins
// since it was read:
//
//   - every write transaction of this process bumps the generation when it
//     ends, whatever its outcome, and entries read under an older
//     generation are ignored;
//   - another process writing the same file (a second `fedid serve`, or the
//     CLI) is seen through PRAGMA data_version on a connection of its own,
//     which changes whenever any other connection commits; it is read at
//     most every watchEvery, and before the first lookup after a quieter
//     spell, so a change committed elsewhere is seen within watchEvery.
//
// Only found logins are kept (a login that appears is read from the
// database until then). Only a transaction that unlinks logins (deletes a
// pool, an identity or a login, moves logins, resets) can make a found
// login wrong, so only those invalidate: creating identities and linking
// new logins, the bulk of the writes, leave the cache warm. The cache holds
// at most maxBytes of entries (by their strings' lengths and a fixed
// overhead), then starts over.
type loginCache struct {
	gen atomic.Uint64
	// hits and misses count finds answered from memory and from the
	// database (for /metrics).
	hits, misses atomic.Uint64

	mu    sync.RWMutex
	m     map[loginKey]loginEntry
	bytes int // the entries' estimated size

	watch     *sql.DB   // one connection, never used to write
	dataVer   *sql.Stmt // PRAGMA data_version on watch
	watchMu   sync.Mutex
	lastWatch atomic.Int64 // Unix ns of the last data_version read
	version   int64
}

type loginKey struct{ pool, provider, key string }

type loginEntry struct {
	identity string
	gen      uint64
}

const (
	// maxBytes bounds the cache's memory: about 300,000 logins of fedid's
	// usual sizes.
	maxBytes = 64 << 20
	// entryOverhead is an entry's memory beyond its strings' bytes: the
	// map slot, four string headers, the generation.
	entryOverhead = 120
	watchEvery    = 5 * time.Millisecond
)

func newLoginCache(ctx context.Context, watch *sql.DB) (*loginCache, error) {
	st, err := watch.PrepareContext(ctx, `PRAGMA data_version`)
	if err != nil {
		return nil, err
	}
	return &loginCache{m: map[loginKey]loginEntry{}, watch: watch, dataVer: st}, nil
}

func (c *loginCache) close() error {
	c.dataVer.Close()
	return c.watch.Close()
}

// invalidate marks every entry stale; called when a write transaction
// that unlinked logins ends, and when another process wrote.
func (c *loginCache) invalidate() { c.gen.Add(1) }

// observe reads data_version when it is due; a change made by another
// connection invalidates the cache. A failed read invalidates it too.
func (c *loginCache) observe(ctx context.Context) {
	now := time.Now().UnixNano()
	if now-c.lastWatch.Load() < int64(watchEvery) {
		return
	}
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if now-c.lastWatch.Load() < int64(watchEvery) {
		return // another goroutine read it meanwhile
	}
	var v int64
	if err := c.dataVer.QueryRowContext(ctx).Scan(&v); err != nil || v != c.version {
		c.version = v
		c.invalidate()
	}
	c.lastWatch.Store(time.Now().UnixNano())
}

// find returns the identity holding the login, from the cache or from
// read.
func (c *loginCache) find(ctx context.Context, k loginKey, read func() (string, error)) (string, error) {
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
	if c.bytes+size > maxBytes {
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

// size reports the entries and their estimated bytes.
func (c *loginCache) size() (entries, bytes int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m), c.bytes
}
