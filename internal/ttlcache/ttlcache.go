// Package ttlcache is a small concurrent cache whose entries expire after
// a fixed time, for values read on every request that change rarely (an
// identity pool, an access key's secret): it saves a database read per
// request at the price of seeing a change up to TTL late.
package ttlcache

import (
	"sync"
	"time"
)

// Cache maps keys to values for TTL.
type Cache[V any] struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.RWMutex
	m  map[string]entry[V]
}

type entry[V any] struct {
	v     V
	until time.Time
}

// New returns a cache holding at most max entries (past that it starts
// over) for ttl each.
func New[V any](ttl time.Duration, max int) *Cache[V] {
	return &Cache[V]{ttl: ttl, max: max, now: time.Now, m: make(map[string]entry[V])}
}

// Get returns the value of key, or false when absent or expired.
func (c *Cache[V]) Get(key string) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok || !c.now().Before(e.until) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put stores a value for key.
func (c *Cache[V]) Put(key string, v V) {
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = make(map[string]entry[V], c.max)
	}
	c.m[key] = entry[V]{v: v, until: c.now().Add(c.ttl)}
	c.mu.Unlock()
}

// Delete forgets key.
func (c *Cache[V]) Delete(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// Clear forgets every entry.
func (c *Cache[V]) Clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
