package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"github.com/fedid/fedid/internal/app"
)

// logBuffer collects a server's log.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestDevModeOnAnyAddress: without a key, a non-loopback address is
// refused, unless --dev, which accepts test/test there and says so loudly
// at start and in /healthz.
func TestDevModeOnAnyAddress(t *testing.T) {
	db := filepath.Join(t.TempDir(), "dev.db")
	err := app.Serve(context.Background(), app.Config{Addr: "0.0.0.0:0", DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "without an access key") {
		t.Fatalf("no key, wildcard address, no --dev: %v", err)
	}
	var logs logBuffer
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- app.Serve(ctx, app.Config{Addr: "0.0.0.0:0", DB: db, Dev: true,
			Logger: slog.New(slog.NewTextHandler(&logs, nil)), Ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("--dev did not start: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("--dev did not start in 20 s")
	}
	defer func() { cancel(); <-done }()
	_, port, _ := strings.Cut(addr, "]:")
	if port == "" {
		_, port, _ = strings.Cut(addr, ":")
	}
	url := "http://127.0.0.1:" + port
	if !strings.Contains(logs.String(), "DEVELOPMENT MODE") {
		t.Fatalf("no warning at start: %s", logs.String())
	}
	res, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "development mode") {
		t.Fatalf("/healthz: %d %s", res.StatusCode, b)
	}
	s := &server{URL: url}
	if _, err := s.testClient().ListIdentityPools(context.Background(), &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(5)}); err != nil {
		t.Fatalf("test/test under --dev: %v", err)
	}
}
