package e2e

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
)

// TestGracefulShutdown stops the server while requests are in flight:
// none gets a server error, every identity a success reported is stored,
// and the database opens cleanly afterwards.
func TestGracefulShutdown(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	pool := aws.ToString(createPool(t, c, "shutdown").IdentityPoolId)
	var mu sync.Mutex
	issued := map[string]string{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u := fmt.Sprintf("w%d-%d", w, i)
				out, err := devToken(t, c, pool, u)
				if err == nil {
					mu.Lock()
					issued[u] = aws.ToString(out.IdentityId)
					mu.Unlock()
					continue
				}
				var ae smithy.APIError
				if errors.As(err, &ae) {
					t.Errorf("API error during shutdown: %v", err)
				}
				return // connection refused once the listener closed
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	s.stop()
	close(stop)
	wg.Wait()
	if len(issued) == 0 {
		t.Fatal("no request completed before shutdown")
	}
	s2 := start(t, startOpts{db: s.DB})
	c2 := s2.testClient()
	for u, id := range issued {
		out, err := devToken(t, c2, pool, u)
		if err != nil || aws.ToString(out.IdentityId) != id {
			t.Fatalf("user %s: identity %s acknowledged, now %v %v", u, id, out, err)
		}
	}
	t.Logf("%d tokens issued before shutdown, all identities still there", len(issued))
}
