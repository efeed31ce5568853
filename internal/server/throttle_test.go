package server

import (
	"testing"
	"time"

	"github.com/fedid/fedid"
)

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	th := NewThrottle(AWSRates, func() time.Time { return now })
	allowed := 0
	for range 10 {
		if th.Allow("111111111111", "TagResource") == nil {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("TagResource: %d of 10 allowed in one instant, want 5", allowed)
	}
	err := th.Allow("111111111111", "TagResource")
	if fedid.ErrorKind(err) != fedid.KindTooManyRequests || fedid.ErrorMessage(err) != "Rate exceeded" {
		t.Fatalf("throttled: %v", err)
	}
	// Other accounts and operations have their own buckets.
	if th.Allow("222222222222", "TagResource") != nil || th.Allow("111111111111", "UntagResource") != nil {
		t.Fatal("buckets are not per account and operation")
	}
	// Refill: 200 ms at 5 rps is one request.
	now = now.Add(200 * time.Millisecond)
	if th.Allow("111111111111", "TagResource") != nil {
		t.Fatal("no refill")
	}
	if th.Allow("111111111111", "TagResource") == nil {
		t.Fatal("refilled more than the rate")
	}
	// Undocumented operations get the default rate.
	n := 0
	for range 100 {
		if th.Allow("111111111111", "DescribeIdentityPool") == nil {
			n++
		}
	}
	if n != DefaultRate {
		t.Fatalf("default rate: %d", n)
	}
}
