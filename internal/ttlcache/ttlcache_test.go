package ttlcache

import (
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New[int](time.Second, 2)
	c.now = func() time.Time { return now }
	c.Put("a", 1)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatal("fresh entry missing")
	}
	now = now.Add(time.Second)
	if _, ok := c.Get("a"); ok {
		t.Fatal("expired entry returned")
	}
	c.Put("a", 1)
	c.Put("b", 2)
	c.Put("c", 3) // over max: starts over
	if _, ok := c.Get("a"); ok {
		t.Fatal("cache grew past max")
	}
	if v, ok := c.Get("c"); !ok || v != 3 {
		t.Fatal("newest entry lost")
	}
	c.Delete("c")
	if _, ok := c.Get("c"); ok {
		t.Fatal("deleted entry returned")
	}
}
