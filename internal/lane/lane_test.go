package lane

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// start serves a handler that echoes what it saw through the lane and
// returns its address. via counts the requests net/http answered.
func start(t *testing.T, cfg func(*http.Server)) (*Server, string, *atomic.Int64) {
	t.Helper()
	var viaStdlib atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, std := w.(http.Flusher); std {
			viaStdlib.Add(1)
		}
		body, _ := io.ReadAll(r.Body)
		switch r.Header.Get("X-Test") {
		case "inject":
			w.Header().Set("X-Msg", "a\r\nInjected: yes")
		case "panic":
			panic("boom")
		case "close":
			w.Header().Set("Connection", "close")
		case "slow":
			time.Sleep(300 * time.Millisecond)
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header()["x-lower"] = []string{"kept as set"}
		w.WriteHeader(201)
		fmt.Fprintf(w, "%s %s %s len=%d host=%s %s", r.Method, r.URL, r.Proto, r.ContentLength, r.Host, body)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second, IdleTimeout: time.Second, WriteTimeout: time.Second,
		ErrorLog: nil}
	if cfg != nil {
		cfg(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Fallback: srv}
	go s.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, ln.Addr().String(), &viaStdlib
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func post(body string, extra ...string) string {
	return "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-amz-json-1.1\r\n" + strings.Join(extra, "") +
		fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
}

func read(t *testing.T, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	res, err := http.ReadResponse(br, nil)
	for err == nil && res.StatusCode < 200 { // 100 Continue
		res, err = http.ReadResponse(br, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// TestLaneServesPlainRequests: keep-alive, pipelining, the response's
// headers and body, and that the lane (not net/http) answered.
func TestLaneServesPlainRequests(t *testing.T) {
	s, addr, viaStdlib := start(t, nil)
	c, br := dial(t, addr)
	// Two requests in one write (pipelined), then a third.
	io.WriteString(c, post(`{"a":1}`)+post(``, "X-Amz-Target: T\r\n", "Connection: keep-alive\r\n"))
	for _, want := range []string{`POST / HTTP/1.1 len=7 host=h {"a":1}`, `POST / HTTP/1.1 len=0 host=h `} {
		res, body := read(t, br)
		if res.StatusCode != 201 || body != want || res.Header.Get("Date") == "" || res.ContentLength != int64(len(want)) ||
			res.Header.Get("Content-Type") != "text/plain" || res.Header.Get("X-Lower") != "kept as set" || res.Close {
			t.Fatalf("got %d %q %v, want %q", res.StatusCode, body, res.Header, want)
		}
	}
	io.WriteString(c, post(`x`))
	if _, body := read(t, br); !strings.HasSuffix(body, " x") {
		t.Fatalf("third: %q", body)
	}
	if s.Served() != 3 || viaStdlib.Load() != 0 {
		t.Fatalf("lane served %d, net/http %d", s.Served(), viaStdlib.Load())
	}
}

// TestLaneHandsOver: each request the lane does not take reaches net/http
// whole, on the same connection, and is answered as net/http answers it.
func TestLaneHandsOver(t *testing.T) {
	big := strings.Repeat("b", 20<<10)
	for _, tc := range []struct {
		name, req string
		status    int
		body      string
	}{
		{"GET", "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n", 201, "GET /healthz HTTP/1.1 len=0 host=h "},
		{"query", "POST /?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nq", 201, "POST /?x=1 HTTP/1.1 len=1 host=h q"},
		{"HTTP/1.0", "POST / HTTP/1.0\r\nHost: h\r\nContent-Length: 1\r\n\r\nq", 201, "POST / HTTP/1.0 len=1 host=h q"},
		{"chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 201, "POST / HTTP/1.1 len=-1 host=h abc"},
		{"expect", "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok", 201, "POST / HTTP/1.1 len=2 host=h ok"},
		{"big body", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 20480\r\n\r\n" + big, 201, "POST / HTTP/1.1 len=20480 host=h " + big},
		{"two lengths", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, ""},
		{"signed length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\na", 400, ""},
		{"folded", "POST / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  2\r\nContent-Length: 1\r\n\r\na", 201, ""},
		{"bare LF", "POST / HTTP/1.1\r\nHost: h\nContent-Length: 1\r\n\r\na", 201, ""},
		{"bad name", "POST / HTTP/1.1\r\nHost: h\r\nX A: 1\r\nContent-Length: 1\r\n\r\na", 400, ""},
		{"no host", "POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\na", 400, ""},
		{"no length", "POST / HTTP/1.1\r\nHost: h\r\n\r\n", 201, "POST / HTTP/1.1 len=0 host=h "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, addr, viaStdlib := start(t, nil)
			c, br := dial(t, addr)
			io.WriteString(c, tc.req)
			res, body := read(t, br)
			if res.StatusCode != tc.status || (tc.body != "" && body != tc.body) {
				t.Fatalf("got %d %q, want %d %q", res.StatusCode, body, tc.status, tc.body)
			}
			if s.Served() != 0 || (tc.status == 201 && viaStdlib.Load() != 1) {
				t.Fatalf("lane served %d, net/http %d", s.Served(), viaStdlib.Load())
			}
			if tc.status != 201 || strings.Contains(tc.req, "HTTP/1.0") {
				return
			}
			// The connection stays with net/http and keeps working.
			io.WriteString(c, post("again"))
			if res, body := read(t, br); res.StatusCode != 201 || !strings.HasSuffix(body, "again") || viaStdlib.Load() != 2 {
				t.Fatalf("after hand-over: %d %q (net/http %d)", res.StatusCode, body, viaStdlib.Load())
			}
		})
	}
}

// TestLaneResponseSafety: newlines in header values cannot inject a
// header; a panicking handler costs its connection only; Connection:
// close from the handler closes it.
func TestLaneResponseSafety(t *testing.T) {
	_, addr, _ := start(t, nil)
	c, br := dial(t, addr)
	io.WriteString(c, post("1", "X-Test: inject\r\n"))
	res, _ := read(t, br)
	if res.Header.Get("Injected") != "" || res.Header.Get("X-Msg") != "a  Injected: yes" {
		t.Fatalf("header injection: %v", res.Header)
	}
	io.WriteString(c, post("1", "X-Test: close\r\n"))
	if res, _ := read(t, br); !res.Close {
		t.Fatal("Connection: close not kept")
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("connection not closed after Connection: close: %v", err)
	}
	c2, br2 := dial(t, addr)
	io.WriteString(c2, post("1", "X-Test: panic\r\n"))
	if _, err := http.ReadResponse(br2, nil); err == nil {
		t.Fatal("a response after a panic")
	}
	c3, br3 := dial(t, addr)
	io.WriteString(c3, post("still"))
	if _, body := read(t, br3); !strings.HasSuffix(body, "still") {
		t.Fatalf("after a panic elsewhere: %q", body)
	}
}

// TestLaneTimeouts: an idle connection and a request head that never
// ends are both closed.
func TestLaneTimeouts(t *testing.T) {
	_, addr, _ := start(t, func(s *http.Server) { s.IdleTimeout, s.ReadHeaderTimeout = 200*time.Millisecond, 200*time.Millisecond })
	for _, partial := range []string{"", "POST / HTTP/1.1\r\nHost: h\r\n"} {
		c, br := dial(t, addr)
		io.WriteString(c, post("1"))
		read(t, br)
		io.WriteString(c, partial)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		start := time.Now()
		_, err := br.ReadByte()
		if err == nil || errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
			t.Fatalf("partial %q: connection not closed by the server (%v after %v)", partial, err, time.Since(start))
		}
	}
}

// TestLaneShutdown: a request in flight finishes, idle connections close,
// Serve returns http.ErrServerClosed.
func TestLaneShutdown(t *testing.T) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	s := &Server{Fallback: srv}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	busy, busyR := dial(t, ln.Addr().String())
	idle, idleR := dial(t, ln.Addr().String())
	io.WriteString(idle, post("1"))
	io.WriteString(busy, post("1"))
	if _, body := read(t, idleR); body != "done" {
		t.Fatal(body)
	}
	io.WriteString(busy, post("2"))
	time.Sleep(50 * time.Millisecond)
	read(t, busyR) // the first
	go func() {
		time.Sleep(20 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	}()
	res, body := read(t, busyR) // the second, in flight during Shutdown
	if body != "done" || !res.Close {
		t.Fatalf("in-flight request: %q close=%v", body, res.Close)
	}
	if _, err := idleR.ReadByte(); err == nil {
		t.Fatal("idle connection left open")
	}
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}
