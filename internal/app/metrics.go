package app

import (
	"github.com/fedid/fedid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// newRegistry is /metrics' registry: Go and process collectors, and the
// store's own counters where it has them (the login cache; SQLite's
// grouped writes).
func newRegistry(st fedid.Store) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if c, ok := st.(interface{ LoginCacheStats() (uint64, uint64) }); ok {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "fedid_login_cache_hits_total", Help: "Login lookups answered from memory.",
			}, func() float64 { h, _ := c.LoginCacheStats(); return float64(h) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "fedid_login_cache_misses_total", Help: "Login lookups that read the database.",
			}, func() float64 { _, m := c.LoginCacheStats(); return float64(m) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "fedid_login_cache_hit_ratio", Help: "Share of login lookups answered from memory since start.",
			}, func() float64 {
				h, m := c.LoginCacheStats()
				if h+m == 0 {
					return 0
				}
				return float64(h) / float64(h+m)
			}))
	}
	if c, ok := st.(interface{ LoginCacheSize() (int, int) }); ok {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fedid_login_cache_bytes", Help: "Estimated memory of the login cache's entries (bounded at 64 MiB).",
		}, func() float64 { _, b := c.LoginCacheSize(); return float64(b) }))
	}
	if c, ok := st.(interface{ WriteStats() (uint64, uint64) }); ok {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "fedid_store_writes_total", Help: "Write transactions asked of the store (SQLite).",
			}, func() float64 { n, _ := c.WriteStats(); return float64(n) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "fedid_store_commits_total", Help: "Transactions the store ran for them: concurrent writes share one (SQLite).",
			}, func() float64 { _, n := c.WriteStats(); return float64(n) }))
	}
	return reg
}
