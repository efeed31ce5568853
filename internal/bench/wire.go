package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/fedid/fedid/internal/sigv4"
)

// wire is one worker's keep-alive HTTP/1.1 connection to the endpoint. The
// load loop sends its requests through it rather than through net/http's
// client so that the load tool, which shares the machine's cores with the
// server it measures, spends as little CPU per request as it can: one
// buffer written per request, the response read into a reused buffer, and
// the SigV4 signature computed with the day's derived key. The bytes on
// the wire are those of an SDK request (aws-sdk-go-v2 signs the same
// headers the same way; a test holds the two signatures equal).
type wire struct {
	addr, host string
	tls        *tls.Config
	region     string
	accessKey  string
	secret     string

	conn net.Conn
	br   *bufio.Reader
	req  []byte // the request being built
	body []byte // the last response body

	// day, scope and key are the derived SigV4 key of one UTC day.
	day, scope string
	key        []byte
	// second and amzDate cache the X-Amz-Date of one second.
	second  int64
	amzDate string
}

func newWire(cfg Config) (*wire, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q is not an http or https URL", cfg.Endpoint)
	}
	w := &wire{host: u.Host, addr: u.Host, region: cfg.Region, accessKey: cfg.AccessKey, secret: cfg.Secret}
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		w.addr = net.JoinHostPort(u.Hostname(), port)
	}
	if u.Scheme == "https" {
		w.tls = &tls.Config{ServerName: u.Hostname()}
	}
	return w, nil
}

func (w *wire) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn, w.br = nil, nil
	}
}

func (w *wire) dial(ctx context.Context) error {
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", w.addr)
	if err != nil {
		return err
	}
	if w.tls != nil {
		tc := tls.Client(c, w.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return err
		}
		c = tc
	}
	w.conn, w.br = c, bufio.NewReaderSize(c, 16<<10)
	return nil
}

// call sends one AWS JSON 1.1 request and returns the status and the body,
// which stays valid until the next call. A request that fails on a reused
// connection (the server closed it while idle) is sent once more on a new
// one.
func (w *wire) call(ctx context.Context, op string, body []byte, signed bool, now time.Time) (int, []byte, error) {
	w.build(op, body, signed, now)
	for attempt := 0; ; attempt++ {
		fresh := w.conn == nil
		if fresh {
			if err := w.dial(ctx); err != nil {
				return 0, nil, err
			}
		}
		if dl, ok := ctx.Deadline(); ok {
			w.conn.SetDeadline(dl)
		} else {
			w.conn.SetDeadline(time.Now().Add(30 * time.Second))
		}
		status, keep, err := w.roundTrip()
		if err == nil {
			if !keep {
				w.close()
			}
			return status, w.body, nil
		}
		w.close()
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			// The run's end cut the request short: not a transport error.
			return 0, nil, context.DeadlineExceeded
		}
		if fresh || attempt > 0 || ctx.Err() != nil {
			return 0, nil, err
		}
	}
}

// build writes the request into w.req.
func (w *wire) build(op string, body []byte, signed bool, now time.Time) {
	const ctype = "application/x-amz-json-1.1"
	target := "AWSCognitoIdentityService." + op
	b := append(w.req[:0], "POST / HTTP/1.1\r\nHost: "...)
	b = append(b, w.host...)
	b = append(b, "\r\nContent-Type: "+ctype+"\r\nX-Amz-Target: "...)
	b = append(b, target...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	if signed {
		date := w.date(now)
		b = append(b, "\r\nX-Amz-Date: "...)
		b = append(b, date...)
		b = append(b, "\r\nAuthorization: AWS4-HMAC-SHA256 Credential="...)
		b = append(b, w.accessKey...)
		b = append(b, '/')
		b = append(b, w.scope...)
		b = append(b, ", SignedHeaders="+signedHeaders+", Signature="...)
		b = w.appendSignature(b, date, ctype, target, body)
	}
	b = append(b, "\r\n\r\n"...)
	w.req = append(b, body...)
}

// signedHeaders are the headers an SDK signs on a JSON request.
const signedHeaders = "content-length;content-type;host;x-amz-date;x-amz-target"

// date returns the X-Amz-Date of now and keeps the day's key current.
func (w *wire) date(now time.Time) string {
	now = now.UTC()
	if s := now.Unix(); s != w.second || w.amzDate == "" {
		w.second, w.amzDate = s, now.Format("20060102T150405Z")
	}
	if day := w.amzDate[:8]; day != w.day {
		w.day = day
		w.scope = day + "/" + w.region + "/cognito-identity/aws4_request"
		w.key = sigv4.DeriveKey(w.secret, day, w.region, "cognito-identity")
	}
	return w.amzDate
}

// appendSignature appends the hex SigV4 signature (the canonical request,
// its string to sign, and the HMAC under the day's key).
func (w *wire) appendSignature(b []byte, date, ctype, target string, body []byte) []byte {
	var hexBuf [64]byte
	sum := sha256.Sum256(body)
	hex.Encode(hexBuf[:], sum[:])
	cr := make([]byte, 0, 512)
	cr = append(cr, "POST\n/\n\ncontent-length:"...)
	cr = strconv.AppendInt(cr, int64(len(body)), 10)
	cr = append(cr, "\ncontent-type:"...)
	cr = append(cr, ctype...)
	cr = append(cr, "\nhost:"...)
	cr = append(cr, w.host...)
	cr = append(cr, "\nx-amz-date:"...)
	cr = append(cr, date...)
	cr = append(cr, "\nx-amz-target:"...)
	cr = append(cr, target...)
	cr = append(cr, "\n\n"+signedHeaders+"\n"...)
	cr = append(cr, hexBuf[:]...)
	crSum := sha256.Sum256(cr)
	sts := append(cr[:0], "AWS4-HMAC-SHA256\n"...)
	sts = append(sts, date...)
	sts = append(sts, '\n')
	sts = append(sts, w.scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, crSum[:])
	mac := hmac.New(sha256.New, w.key)
	mac.Write(sts)
	var sig [sha256.Size]byte
	return hex.AppendEncode(b, mac.Sum(sig[:0]))
}

var errResponse = errors.New("malformed HTTP response")

// roundTrip writes w.req and reads one response into w.body. keep reports
// whether the connection may carry the next request.
func (w *wire) roundTrip() (status int, keep bool, err error) {
	if _, err := w.conn.Write(w.req); err != nil {
		return 0, false, err
	}
	line, err := w.br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, errResponse
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, errResponse
	}
	keep = line[7] == '1'
	length, chunked := -1, false
	for {
		h, err := w.br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, false, errResponse
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, false, errResponse
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				keep = true
			}
		}
	}
	switch {
	case chunked:
		w.body, err = readChunked(w.br, w.body[:0])
	case length >= 0:
		if cap(w.body) < length {
			w.body = make([]byte, length)
		}
		w.body = w.body[:length]
		_, err = io.ReadFull(w.br, w.body)
	default: // the body runs to the end of the connection
		keep = false
		w.body, err = io.ReadAll(w.br)
	}
	return status, keep, err
}

// readChunked reads a chunked body (RFC 9112 section 7.1), trailers
// ignored.
func readChunked(br *bufio.Reader, b []byte) ([]byte, error) {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return b, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil || n < 0 {
			return b, errResponse
		}
		if n == 0 {
			for { // trailers, then the blank line
				t, err := br.ReadSlice('\n')
				if err != nil {
					return b, err
				}
				if len(bytes.TrimRight(t, "\r\n")) == 0 {
					return b, nil
				}
			}
		}
		start := len(b)
		b = append(b, make([]byte, n)...)
		if _, err := io.ReadFull(br, b[start:]); err != nil {
			return b, err
		}
		if _, err := br.Discard(2); err != nil {
			return b, err
		}
	}
}
