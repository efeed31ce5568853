package server

import (
	"sync"
	"time"

	"github.com/fedid/fedid"
)

// AWSRates are the documented per-account request rates (requests per
// second) of the service (spec 1.6); operations without a documented rate
// get 25, LookupDeveloperIdentity 5 (a control-plane call).
var AWSRates = map[string]float64{
	"GetId": 25, "GetOpenIdToken": 200, "GetCredentialsForIdentity": 200, "GetOpenIdTokenForDeveloperIdentity": 200,
	"TagResource": 5, "UntagResource": 5, "ListTagsForResource": 10, "LookupDeveloperIdentity": 5,
}

// DefaultRate is the rate of operations AWSRates does not list.
const DefaultRate = 25

// Throttle is a token bucket per (account, operation): each holds one
// second's worth of requests and refills continuously.
type Throttle struct {
	rates map[string]float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewThrottle returns a throttle with the given per-operation rates
// (operations not listed get DefaultRate).
func NewThrottle(rates map[string]float64, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{rates: rates, now: now, buckets: map[string]*bucket{}}
}

// errRate is the throttled answer.
var errRate = fedid.Errorf(fedid.KindTooManyRequests, "Rate exceeded")

// Allow takes a request from the bucket of (account, op). Unsigned
// operations, whose account is only known from the store, share a bucket
// per operation.
func (t *Throttle) Allow(account, op string) error {
	rate, ok := t.rates[op]
	if !ok {
		rate = DefaultRate
	}
	key := account + "\x00" + op
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buckets[key]
	if b == nil {
		b = &bucket{tokens: rate, last: now}
		t.buckets[key] = b
	}
	b.tokens = min(rate, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		return errRate
	}
	b.tokens--
	return nil
}
