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
		reg.MustRegister(counterPair(c.LoginCacheStats,
			"fedid_login_cache_hits_total", "Login lookups answered from memory.",
			"fedid_login_cache_misses_total", "Login lookups that read the database."))
		reg.MustRegister(
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
		reg.MustRegister(counterPair(c.WriteStats,
			"fedid_store_writes_total", "Write transactions asked of the store (SQLite).",
			"fedid_store_commits_total", "Transactions the store ran for them: concurrent writes share one (SQLite)."))
	}
	return reg
}

// counterPair is two counters that one call reports together.
func counterPair(f func() (uint64, uint64), a, aHelp, b, bHelp string) (prometheus.Collector, prometheus.Collector) {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: a, Help: aHelp}, func() float64 { x, _ := f(); return float64(x) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: b, Help: bHelp}, func() float64 { _, y := f(); return float64(y) })
}
