package e2e

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedid/fedid/internal/store/postgres/pgtest"
)

// tcpProxy forwards connections to a server until down, when it closes
// the listener and every connection, as a PostgreSQL that went away.
type tcpProxy struct {
	target string
	mu     sync.Mutex
	ln     net.Listener
	addr   string
	conns  []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{target: target}
	p.up(t, "127.0.0.1:0", false)
	t.Cleanup(p.down)
	return p
}

// up listens on addr; with blackhole it accepts connections and never
// answers, as a server behind a dropped route.
func (p *tcpProxy) up(t *testing.T, addr string, blackhole bool) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if blackhole {
				p.mu.Lock()
				p.conns = append(p.conns, c)
				p.mu.Unlock()
				continue
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func healthz(t *testing.T, s *server) (int, string, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := http.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

// TestHealthzWhenPostgresGoesAway: /healthz answers 200 while the store
// answers, 503 with the reason (and no password) within its 2 s ping
// timeout once PostgreSQL is gone, and 200 again when it is back.
func TestHealthzWhenPostgresGoesAway(t *testing.T) {
	u, err := url.Parse(pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	// Trust authentication never asks for it; it must not leak either.
	u.User = url.UserPassword(u.User.Username(), "s3cret-pw")
	s := start(t, startOpts{db: u.String()})

	if code, body, _ := healthz(t, s); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("healthy: %d %q", code, body)
	}
	proxy.down()
	code, body, took := healthz(t, s)
	t.Logf("PostgreSQL gone: %d %q in %v", code, body, took)
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "unhealthy: postgres: ") {
		t.Fatalf("PostgreSQL gone: %d %q", code, body)
	}
	if strings.Contains(body, "s3cret") {
		t.Fatalf("the password leaked: %q", body)
	}
	if took > 3*time.Second {
		t.Fatalf("answered after %v", took)
	}

	// Unreachable rather than refused: the ping times out after 2 s.
	proxy.up(t, proxy.addr, true)
	code, body, took = healthz(t, s)
	t.Logf("PostgreSQL unreachable: %d %q in %v", code, body, took)
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "unhealthy: no answer within 2s: postgres: ") {
		t.Fatalf("PostgreSQL unreachable: %d %q", code, body)
	}
	if took < 1500*time.Millisecond || took > 4*time.Second {
		t.Fatalf("answered after %v, not after the 2 s ping timeout", took)
	}
	proxy.down()

	proxy.up(t, proxy.addr, false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body, _ := healthz(t, s)
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL back, still %d %q", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
