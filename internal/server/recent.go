package server

import (
	"context"
	"sync"
	"time"

	"github.com/fedid/fedid"
)

// recentSize is how many API requests the console's live view can show.
const recentSize = 200

// RecentRequest is one API request as the request log records it: no
// secret, token, login value or identity, only what was asked, by which
// account, and what came of it.
type RecentRequest struct {
	Time      time.Time `json:"Time"`
	Operation string    `json:"Operation"`
	Account   string    `json:"Account,omitempty"`
	Status    int       `json:"Status"`
	ErrorCode string    `json:"ErrorCode,omitempty"`
	LatencyMs float64   `json:"LatencyMs"`
	RequestId string    `json:"RequestId"`
}

// recent keeps the last recentSize requests in a ring.
type recent struct {
	mu   sync.Mutex
	ring [recentSize]RecentRequest
	next int
	n    int
}

func (r *recent) add(e RecentRequest) {
	r.mu.Lock()
	r.ring[r.next] = e
	r.next = (r.next + 1) % recentSize
	r.n = min(r.n+1, recentSize)
	r.mu.Unlock()
}

// newestFirst returns the kept requests that keep accepts, newest first.
func (r *recent) newestFirst(keep func(*RecentRequest) bool) []RecentRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]RecentRequest, 0, r.n)
	for i := 1; i <= r.n; i++ {
		e := &r.ring[(r.next-i+recentSize)%recentSize]
		if keep(e) {
			out = append(out, *e)
		}
	}
	return out
}

type listRecentOutput struct {
	Requests []RecentRequest `json:"Requests"`
}

// listRecent is Fedid.ListRecentRequests: the caller's account's last
// requests, and, in development mode, the unsigned ones (GetId,
// GetOpenIdToken, ...), which belong to no account fedid can name.
func (s *Server) listRecent(_ context.Context, c fedid.Caller, body []byte) (any, error) {
	var in struct{}
	if err := decodeEmpty(body, &in); err != nil {
		return nil, err
	}
	return &listRecentOutput{Requests: s.recent.newestFirst(func(e *RecentRequest) bool {
		return e.Account == c.Account || (e.Account == "" && s.cfg.Dev)
	})}, nil
}
