package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/coreos/go-oidc/v3/oidc"
)

// testCA is a throwaway certificate authority the test clients trust.
type testCA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pool *x509.CertPool
	pem  []byte
}

func newTestCA(tb testing.TB) *testCA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fedid test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{key: key, cert: cert, pool: pool, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key for 127.0.0.1 and localhost with
// the given serial number.
func (ca *testCA) issue(tb testing.TB, serial int64) (certPEM, keyPEM []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		tb.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// writePair writes a certificate and key with the given serial to the
// files, in place, as a renewal tool would.
func (ca *testCA) writePair(tb testing.TB, certFile, keyFile string, serial int64) {
	tb.Helper()
	c, k := ca.issue(tb, serial)
	if err := os.WriteFile(keyFile, k, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(certFile, c, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// httpsClient trusts only the test CA and speaks HTTP/2 when offered
// (a custom TLS configuration turns net/http's automatic HTTP/2 off unless
// forced).
func (ca *testCA) httpsClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: ca.pool},
		ForceAttemptHTTP2: true,
	}}
}

// startTLS serves fedid over TLS with a certificate of serial 1 in dir.
func startTLS(tb testing.TB, ca *testCA, o startOpts) (s *server, certFile, keyFile string) {
	tb.Helper()
	dir := tb.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.writePair(tb, certFile, keyFile, 1)
	o.tlsCert, o.tlsKey = certFile, keyFile
	return start(tb, o), certFile, keyFile
}

func hostOf(tb testing.TB, s *server) string {
	tb.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		tb.Fatal(err)
	}
	return u.Host
}

// servedSerial is the serial number of the certificate a new connection
// is given.
func servedSerial(tb testing.TB, ca *testCA, addr string) int64 {
	tb.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool})
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// waitSerial waits up to 10 s for new connections to be given serial.
func waitSerial(tb testing.TB, ca *testCA, addr string, serial int64) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := servedSerial(tb, ca, addr)
		if got == serial {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("served serial %d, want %d", got, serial)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTLS serves HTTPS: the SDK over HTTP/2, an https:// issuer, go-oidc
// discovery and verification over TLS, the security headers, and what is
// refused.
func TestTLS(t *testing.T) {
	ca := newTestCA(t)
	s, _, _ := startTLS(t, ca, startOpts{})
	hc := ca.httpsClient()
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("URL %s", s.URL)
	}
	c := ci.New(ci.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:       hc,
		RetryMaxAttempts: 1,
	})
	ctx := context.Background()
	pool := aws.ToString(createPool(t, c, "tls").IdentityPoolId)
	list, err := c.ListIdentityPools(ctx, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(5)})
	if err != nil || len(list.IdentityPools) != 1 {
		t.Fatalf("ListIdentityPools: %v %v", err, list)
	}
	raw, _ := awsmiddleware.GetRawResponse(list.ResultMetadata).(*smithyhttp.Response)
	if raw == nil || raw.Proto != "HTTP/2.0" || raw.TLS == nil || raw.TLS.NegotiatedProtocol != "h2" {
		t.Fatalf("response %+v, want HTTP/2 over TLS", raw)
	}
	out, err := devToken(t, c, pool, "user1")
	if err != nil {
		t.Fatal(err)
	}
	// /metrics says when the certificate served expires.
	mres, err := hc.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mres.Body)
	mres.Body.Close()
	if !strings.Contains(string(mb), "fedid_tls_certificate_expiry_timestamp_seconds ") {
		t.Fatal("/metrics has no TLS certificate expiry")
	}

	// A third party verifies the token from the discovery document, all
	// over HTTPS.
	octx := oidc.ClientContext(ctx, hc)
	provider, err := oidc.NewProvider(octx, s.URL)
	if err != nil {
		t.Fatalf("discovery over TLS: %v", err)
	}
	tok, err := provider.Verifier(&oidc.Config{ClientID: pool, SupportedSigningAlgs: []string{"RS512"}}).Verify(octx, aws.ToString(out.Token))
	if err != nil {
		t.Fatalf("go-oidc verify over TLS: %v", err)
	}
	if tok.Issuer != s.URL || tok.Subject != aws.ToString(out.IdentityId) {
		t.Fatalf("issuer %q subject %q, want %q", tok.Issuer, tok.Subject, s.URL)
	}

	t.Run("security headers", func(t *testing.T) {
		checkSecurityHeaders(t, hc, s.URL, true)
	})

	t.Run("HTTP/1.1 still served", func(t *testing.T) {
		h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}}}
		res, err := h1.Get(s.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Proto != "HTTP/1.1" {
			t.Fatalf("%d %s", res.StatusCode, res.Proto)
		}
	})

	t.Run("plain HTTP refused", func(t *testing.T) {
		res, err := http.Get("http://" + hostOf(t, s) + "/healthz")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			// net/http answers a plain request on a TLS port with a 400
			// saying so, and serves nothing.
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "HTTPS") {
				t.Fatalf("plain HTTP got %d %q", res.StatusCode, b)
			}
		}
	})

	t.Run("TLS 1.1 refused, 1.2 accepted", func(t *testing.T) {
		addr := hostOf(t, s)
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		if err == nil {
			conn.Close()
			t.Fatal("TLS 1.1 handshake succeeded")
		}
		if !strings.Contains(err.Error(), "protocol version") {
			t.Fatalf("TLS 1.1 refused with %v, want the server's protocol version alert", err)
		}
		conn, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, MaxVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("TLS 1.2: %v", err)
		}
		conn.Close()
	})

	t.Run("untrusted client refuses", func(t *testing.T) {
		if _, err := http.Get(s.URL + "/healthz"); err == nil {
			t.Fatal("a client without the test CA accepted the certificate")
		}
	})
}

// checkSecurityHeaders checks the headers of an API answer, a preflight
// and the JWKS; HSTS only over TLS, CORS untouched.
func checkSecurityHeaders(t *testing.T, hc *http.Client, base string, overTLS bool) {
	t.Helper()
	get := func(method, path, target string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(`{"MaxResults":5}`))
		if err != nil {
			t.Fatal(err)
		}
		if target != "" {
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+target)
		}
		if method == http.MethodOptions {
			req.Header.Set("Origin", "https://app.example")
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "x-amz-target,content-type")
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	hsts := ""
	if overTLS {
		hsts = "max-age=31536000"
	}
	for _, tc := range []struct {
		name, method, path, target string
		status                     int
		cache                      string
		cors                       bool
	}{
		{"API error", http.MethodPost, "/", "ListIdentityPools", 400, "no-store", true},
		{"preflight", http.MethodOptions, "/", "", 200, "no-store", true},
		{"health", http.MethodGet, "/healthz", "", 200, "no-store", false},
		{"JWKS", http.MethodGet, "/.well-known/jwks_uri", "", 200, "public, max-age=3600", true},
		{"discovery", http.MethodGet, "/.well-known/openid-configuration", "", 200, "public, max-age=3600", true},
	} {
		res := get(tc.method, tc.path, tc.target)
		h := res.Header
		if res.StatusCode != tc.status || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" ||
			h.Get("Strict-Transport-Security") != hsts || strings.Join(h.Values("Cache-Control"), ",") != tc.cache {
			t.Errorf("%s: status %d headers %v", tc.name, res.StatusCode, h)
		}
		if tc.cors && h.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: CORS headers lost: %v", tc.name, h)
		}
		if tc.method == http.MethodOptions && (h.Get("Access-Control-Allow-Methods") != "POST, OPTIONS" ||
			h.Get("Access-Control-Allow-Headers") != "x-amz-target,content-type") {
			t.Errorf("preflight: %v", h)
		}
		if tc.target != "" && !strings.Contains(h.Get("Access-Control-Expose-Headers"), "x-amzn-RequestId") {
			t.Errorf("%s: exposed headers lost: %v", tc.name, h)
		}
	}
}

// TestSecurityHeadersPlainHTTP: the same headers without TLS, but no HSTS,
// which would mean nothing on plain HTTP.
func TestSecurityHeadersPlainHTTP(t *testing.T) {
	s := start(t, startOpts{})
	checkSecurityHeaders(t, http.DefaultClient, s.URL, false)
}

// TestTLSRenewalOnSignal: a renewed pair is served after the reload signal,
// without a restart; a bad pair is refused and the old one kept. The file
// poll is made too slow to be what reloads.
func TestTLSRenewalOnSignal(t *testing.T) {
	ca := newTestCA(t)
	reload := make(chan struct{})
	s, certFile, keyFile := startTLS(t, ca, startOpts{reload: reload, tlsPoll: time.Hour})
	addr := hostOf(t, s)
	if got := servedSerial(t, ca, addr); got != 1 {
		t.Fatalf("serial %d", got)
	}
	ca.writePair(t, certFile, keyFile, 2)
	if got := servedSerial(t, ca, addr); got != 1 {
		t.Fatalf("serial %d before the signal", got)
	}
	reload <- struct{}{}
	waitSerial(t, ca, addr, 2)

	// A certificate whose key does not match is logged and ignored.
	_, otherKey := ca.issue(t, 3)
	if err := os.WriteFile(keyFile, otherKey, 0o600); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	reload <- struct{}{} // the first has been handled once the second is taken
	if got := servedSerial(t, ca, addr); got != 2 {
		t.Fatalf("serial %d after a bad pair, want the old 2", got)
	}
	ca.writePair(t, certFile, keyFile, 4)
	reload <- struct{}{}
	waitSerial(t, ca, addr, 4)
	// The API answers on the renewed certificate.
	c := ci.New(ci.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), HTTPClient: ca.httpsClient(),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), RetryMaxAttempts: 1})
	if _, err := c.ListIdentityPools(context.Background(), &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
}

// TestTLSRenewalOnFileChange: a pair rewritten on disk is served within a
// poll, without a signal or a restart.
func TestTLSRenewalOnFileChange(t *testing.T) {
	ca := newTestCA(t)
	s, certFile, keyFile := startTLS(t, ca, startOpts{tlsPoll: 100 * time.Millisecond})
	addr := hostOf(t, s)
	if got := servedSerial(t, ca, addr); got != 1 {
		t.Fatalf("serial %d", got)
	}
	ca.writePair(t, certFile, keyFile, 7)
	waitSerial(t, ca, addr, 7)
	// A renewal that renames new files into place is seen too.
	dir := t.TempDir()
	ca.writePair(t, filepath.Join(dir, "c"), filepath.Join(dir, "k"), 8)
	if err := os.Rename(filepath.Join(dir, "k"), keyFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "c"), certFile); err != nil {
		t.Fatal(err)
	}
	waitSerial(t, ca, addr, 8)
}
