// Package lane serves the plain HTTP/1.1 requests AWS SDKs and CLIs send
// to fedid (POST / with a small Content-Length body) with less work per
// request than net/http, and hands every connection whose request it does
// not fully understand to a net/http server, unread bytes and all, for the
// rest of that connection's life.
//
// Why: under load a token costs one RSA signature (about 260 µs of CPU)
// plus everything else; net/http's share of everything else (header maps,
// a background read per request to notice a client going away, a wake-up
// for it, extra deadline updates, an extra read that finds nothing) is
// about 10 µs of CPU per request on a 2-core machine, which BENCHMARKS.md
// measures. The lane reads a request with one read, answers it with one
// write, and takes only what it can parse strictly: anything else
// (another method or path, chunked bodies, Expect, Upgrade, HTTP/1.0,
// obsolete line folding, a bare LF, an invalid header, a repeated
// Content-Length, a body that does not fit its buffer) goes to net/http,
// which then answers exactly as it always would. The lane never rejects a
// request itself.
package lane

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the lane in front of a net/http server. Handler, timeouts and
// error log are the fallback server's.
type Server struct {
	// Fallback serves the connections the lane hands over; its Handler is
	// the lane's too.
	Fallback *http.Server

	fb       *handoff
	ctx      context.Context
	cancel   context.CancelFunc
	shutdown atomic.Bool
	served   atomic.Int64

	mu    sync.Mutex
	ln    net.Listener
	conns map[*conn]struct{}
}

// conn states.
const (
	stateIdle = iota
	stateActive
)

type conn struct {
	c     net.Conn
	state atomic.Int32
}

// Served returns how many requests the lane itself answered.
func (s *Server) Served() int64 { return s.served.Load() }

// Serve accepts connections on ln until Shutdown; it returns
// http.ErrServerClosed after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
		s.ctx, s.cancel = context.WithCancel(context.Background())
		s.fb = &handoff{addr: ln.Addr(), c: make(chan net.Conn), done: make(chan struct{})}
	}
	s.ln = ln
	s.mu.Unlock()
	go s.Fallback.Serve(s.fb) // returns when Shutdown closes s.fb
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.shutdown.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() { // as net/http does
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		cc := &conn{c: c}
		s.mu.Lock()
		s.conns[cc] = struct{}{}
		s.mu.Unlock()
		go s.serveConn(cc)
	}
}

// Shutdown stops accepting, closes idle connections, waits for the
// requests in flight (on the lane and on the fallback server) and returns
// when all are done or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Store(true)
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Unlock()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if s.closeIdle() {
			break
		}
		select {
		case <-ctx.Done():
			s.closeAll()
			s.Fallback.Close()
			return ctx.Err()
		case <-t.C:
		}
	}
	if s.cancel != nil {
		defer s.cancel()
	}
	return s.Fallback.Shutdown(ctx)
}

// closeIdle closes the idle lane connections and reports whether none is
// left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.Load() == stateIdle {
			c.c.Close()
			delete(s.conns, c)
		}
	}
	return len(s.conns) == 0
}

func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.c.Close()
		delete(s.conns, c)
	}
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bufSize) }}

const (
	// bufSize bounds a request the lane takes, head and body.
	bufSize = 16 << 10
	// maxHead bounds the request line and headers.
	maxHead = 8 << 10
	// maxHeaders bounds the header lines.
	maxHeaders = 64
)

// orDefault is d, or def when d is not set.
func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (s *Server) serveConn(cc *conn) {
	c := cc.c
	br := readers.Get().(*bufio.Reader)
	br.Reset(c)
	handedOff := false
	defer func() {
		if err := recover(); err != nil && err != http.ErrAbortHandler {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			s.logf("lane: panic serving %v: %v\n%s", c.RemoteAddr(), err, buf)
		}
		br.Reset(nil)
		readers.Put(br)
		s.forget(cc)
		if !handedOff {
			c.Close()
		}
	}()
	idle := orDefault(s.Fallback.IdleTimeout, orDefault(s.Fallback.ReadTimeout, 2*time.Minute))
	head := orDefault(s.Fallback.ReadHeaderTimeout, orDefault(s.Fallback.ReadTimeout, 10*time.Second))
	write := s.Fallback.WriteTimeout
	w := &response{conn: c, h: make(http.Header, 8)}
	remote := c.RemoteAddr().String()
	// The deadlines are moved on only when less than half their span is
	// left, not on every request (each move is a timer update): an idle
	// wait may last from half the idle timeout to all of it, a response
	// write likewise.
	var readDL, writeDL time.Time
	for {
		if br.Buffered() == 0 {
			// Wait for the next request (its first read usually brings
			// all of it).
			if now := time.Now(); readDL.Sub(now) < idle/2 {
				readDL = now.Add(idle)
				c.SetReadDeadline(readDL)
			}
			if _, err := br.Peek(1); err != nil {
				return
			}
		}
		cc.state.Store(stateActive)
		req, n, ok := parse(br, c, head, &readDL)
		if !ok {
			handedOff = s.handOff(cc, br)
			return
		}
		req.RemoteAddr = remote
		req = req.WithContext(s.ctx)
		w.reset()
		s.Fallback.Handler.ServeHTTP(w, req)
		br.Discard(n)
		if s.shutdown.Load() {
			w.h["Connection"] = []string{"close"} // as net/http says while shutting down
		}
		if now := time.Now(); write > 0 && writeDL.Sub(now) < write/2 {
			writeDL = now.Add(write)
			c.SetWriteDeadline(writeDL)
		}
		s.served.Add(1) // before the write, which the client may see first
		if err := w.finish(); err != nil || w.close {
			return
		}
		cc.state.Store(stateIdle)
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.Fallback.ErrorLog != nil {
		s.Fallback.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// handOff gives the connection, with what br holds of it unread, to the
// fallback server.
func (s *Server) handOff(cc *conn, br *bufio.Reader) bool {
	pending, _ := br.Peek(br.Buffered())
	pc := &prefixConn{Conn: cc.c, pending: append([]byte(nil), pending...)}
	cc.c.SetReadDeadline(time.Time{}) // net/http sets its own
	select {
	case s.fb.c <- pc:
		return true
	case <-s.fb.done:
		return false
	}
}

// parse reads one request from br's buffer without consuming it (reading
// more when the head or body is not all there yet, within the head
// timeout, which it records in *readDL). It returns the request and its length in bytes, or ok false
// for anything but a plain POST / with a Content-Length body.
func parse(br *bufio.Reader, c net.Conn, headTimeout time.Duration, readDL *time.Time) (*http.Request, int, bool) {
	deadlineSet := false
	more := func(n int) ([]byte, bool) {
		if br.Buffered() < n && !deadlineSet {
			*readDL = time.Now().Add(headTimeout)
			c.SetReadDeadline(*readDL)
			deadlineSet = true
		}
		b, err := br.Peek(n)
		return b, err == nil
	}
	var buf []byte
	end := -1
	for {
		buf, _ = br.Peek(br.Buffered())
		if end = bytes.Index(buf, crlfcrlf); end >= 0 {
			break
		}
		if len(buf) >= maxHead {
			return nil, 0, false
		}
		if _, ok := more(len(buf) + 1); !ok {
			return nil, 0, false
		}
	}
	if end+4 > maxHead {
		return nil, 0, false
	}
	line, rest, _ := bytes.Cut(buf[:end+2], crlf)
	if string(line) != "POST / HTTP/1.1" {
		return nil, 0, false
	}
	h := make(http.Header, 8)
	length, host, lines := -1, "", 0
	for len(rest) > 0 {
		var l []byte
		l, rest, _ = bytes.Cut(rest, crlf)
		if lines++; lines > maxHeaders {
			return nil, 0, false
		}
		k, v, ok := bytes.Cut(l, colon)
		if !ok || !validName(k) {
			return nil, 0, false // includes obs-fold: a line starting with white space
		}
		v = trimOWS(v)
		if !validValue(v) {
			return nil, 0, false // includes a bare CR or LF
		}
		key := http.CanonicalHeaderKey(string(k))
		switch key {
		case "Content-Length":
			if length >= 0 || len(v) == 0 || len(v) > 7 {
				return nil, 0, false
			}
			n := 0
			for _, d := range v {
				if d < '0' || d > '9' {
					return nil, 0, false
				}
				n = n*10 + int(d-'0')
			}
			length = n
		case "Transfer-Encoding", "Expect", "Upgrade", "Te", "Trailer":
			return nil, 0, false
		case "Connection":
			if !bytes.EqualFold(v, []byte("keep-alive")) {
				return nil, 0, false
			}
		case "Host":
			if host != "" || len(v) == 0 {
				return nil, 0, false
			}
			host = string(v)
		}
		h[key] = append(h[key], string(v))
	}
	if length < 0 || host == "" {
		return nil, 0, false
	}
	total := end + 4 + length
	if total > bufSize {
		return nil, 0, false
	}
	all, ok := more(total)
	if !ok {
		return nil, 0, false
	}
	body := bytes.Clone(all[end+4 : total])
	if body == nil {
		body = []byte{}
	}
	return &http.Request{
		Method: http.MethodPost, URL: &url.URL{Path: "/"}, RequestURI: "/",
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Host: host, ContentLength: int64(length),
		Body: io.NopCloser(bytes.NewReader(body)),
	}, total, true
}

var (
	crlf     = []byte("\r\n")
	crlfcrlf = []byte("\r\n\r\n")
	colon    = []byte(":")
)

// validName: a header name is a token (RFC 9110 section 5.6.2).
func validName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tchar[c] {
			return false
		}
	}
	return true
}

var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// validValue: visible ASCII, space and tab, and obs-text (RFC 9110
// section 5.5), as net/http takes.
func validValue(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// response buffers a handler's response and writes it in one write.
type response struct {
	conn   net.Conn
	h      http.Header
	status int
	body   []byte
	out    []byte
	keys   []string
	close  bool
}

func (w *response) reset() {
	clear(w.h)
	w.status = 0
	w.body = w.body[:0]
}

func (w *response) Header() http.Header { return w.h }

func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic("lane: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if w.status == 0 && code >= 200 { // 1xx informational responses are not sent
		w.status = code
	}
}

func (w *response) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body = append(w.body, b...)
	return len(b), nil
}

// finish writes the status line, the headers (newlines in values turned
// to spaces, as net/http does), Date and Content-Length, and the body.
func (w *response) finish() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	h := w.h
	if _, ok := h["Content-Type"]; !ok && len(w.body) > 0 {
		h["Content-Type"] = []string{http.DetectContentType(w.body)}
	}
	delete(h, "Content-Length")
	delete(h, "Transfer-Encoding")
	w.close = false
	for _, v := range h["Connection"] {
		if bytes.EqualFold([]byte(v), []byte("close")) {
			w.close = true
		}
	}
	b := append(w.out[:0], "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(w.status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(w.status)...)
	b = append(b, "\r\n"...)
	w.keys = w.keys[:0]
	for k := range h {
		w.keys = append(w.keys, k)
	}
	sort.Strings(w.keys)
	date := true
	for _, k := range w.keys {
		if k == "Date" {
			date = false
		}
		if !validName([]byte(k)) {
			continue
		}
		for _, v := range h[k] {
			b = append(b, k...)
			b = append(b, ": "...)
			for i := 0; i < len(v); i++ {
				if c := v[i]; c == '\r' || c == '\n' {
					b = append(b, ' ')
				} else {
					b = append(b, c)
				}
			}
			b = append(b, "\r\n"...)
		}
	}
	if date {
		b = append(b, "Date: "...)
		b = time.Now().UTC().AppendFormat(b, http.TimeFormat)
		b = append(b, "\r\n"...)
	}
	if bodyAllowed(w.status) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(w.body)), 10)
		b = append(b, "\r\n\r\n"...)
		b = append(b, w.body...)
	} else {
		b = append(b, "\r\n"...)
	}
	w.out = b
	_, err := w.conn.Write(b)
	return err
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified && status >= 200
}

// prefixConn reads what the lane had buffered before the connection
// itself.
type prefixConn struct {
	net.Conn
	pending []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// handoff is the fallback server's listener: it accepts the connections
// the lane passes on.
type handoff struct {
	addr net.Addr
	c    chan net.Conn
	once sync.Once
	done chan struct{}
}

func (l *handoff) Accept() (net.Conn, error) {
	select {
	case c := <-l.c:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoff) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoff) Addr() net.Addr { return l.addr }
