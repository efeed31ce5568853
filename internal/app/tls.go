package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// defaultTLSPoll is how often the certificate and key files are checked
// for a change: a renewal (certbot, cert-manager) is picked up within a few
// seconds, and two stat calls every few seconds cost nothing.
const defaultTLSPoll = 3 * time.Second

// certReloader serves the current certificate through
// tls.Config.GetCertificate and replaces it, without a restart, on a reload
// signal or when the files change. A pair that does not load (half written,
// key not matching) is logged and the old certificate kept: a renewal going
// wrong must not take the service down.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	cert              atomic.Pointer[tls.Certificate]
	// seen are the files as last loaded (or tried), to notice a change.
	seen [2]os.FileInfo
}

// newTLS returns the TLS configuration of cfg, nil when fedid serves plain
// HTTP, and starts watching the certificate until stop. The pair must load
// at start: a server that cannot present a certificate refuses to start
// rather than fail every handshake.
func newTLS(ctx context.Context, cfg Config) (conf *tls.Config, stop func(), notAfter func() time.Time, err error) {
	if cfg.TLSCert == "" && cfg.TLSKey == "" {
		return nil, func() {}, nil, nil
	}
	if cfg.TLSCert == "" || cfg.TLSKey == "" {
		return nil, nil, nil, errors.New("--tls-cert and --tls-key (FEDID_TLS_CERT, FEDID_TLS_KEY) must be set together")
	}
	r := &certReloader{certFile: cfg.TLSCert, keyFile: cfg.TLSKey, log: cfg.Logger}
	if err := r.load("start"); err != nil {
		return nil, nil, nil, fmt.Errorf("TLS: %w", err)
	}
	poll := cfg.TLSPoll
	if poll <= 0 {
		poll = defaultTLSPoll
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.watch(wctx, cfg.Reload, poll)
	}()
	return tlsConfig(r.getCertificate), func() { cancel(); <-done }, r.notAfter, nil
}

// tlsConfig is fedid's TLS server configuration: TLS 1.2 at least (1.0 and
// 1.1 are deprecated, RFC 8996), Go's default cipher suites (only AEAD
// suites with forward secrecy are preferred, and Go keeps them current), and
// HTTP/2 offered first through ALPN, served by net/http itself when the
// listener hands it *tls.Conn connections that negotiated "h2".
func tlsConfig(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: get,
	}
}

func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// load reads the pair and, if it is good, makes it the one served. The
// files are stat'ed before they are read, so that a write finishing after
// the read shows as a change at the next poll and is loaded then.
func (r *certReloader) load(why string) error {
	r.seen = [2]os.FileInfo{stat(r.certFile), stat(r.keyFile)}
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	leaf := c.Leaf
	if leaf == nil { // LoadX509KeyPair fills Leaf since Go 1.23; be safe
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return err
		}
		c.Leaf = leaf
	}
	r.cert.Store(&c)
	r.log.Info("TLS certificate loaded", "reason", why, "file", r.certFile, "subject", leaf.Subject.String(),
		"serial", leaf.SerialNumber.String(), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	if time.Now().After(leaf.NotAfter) {
		r.log.Warn("the TLS certificate has expired; clients will refuse it", "not_after", leaf.NotAfter)
	}
	return nil
}

// notAfter is when the certificate being served expires.
func (r *certReloader) notAfter() time.Time { return r.cert.Load().Leaf.NotAfter }

// reload loads the pair again, keeping the old certificate if the new one
// is bad.
func (r *certReloader) reload(why string) {
	if err := r.load(why); err != nil {
		r.log.Error("TLS certificate not reloaded; still serving the previous one", "reason", why, "err", err)
	}
}

// changed reports whether either file differs from when it was last
// loaded: another modification time or size, or another file altogether
// (a renewal that renames a new file into place, or a Kubernetes secret
// volume swapping its symlink).
func (r *certReloader) changed() bool {
	for i, name := range [2]string{r.certFile, r.keyFile} {
		now, old := stat(name), r.seen[i]
		if now == nil {
			continue // removed mid-renewal: no change until the new file is there
		}
		if old == nil {
			return true
		}
		if !now.ModTime().Equal(old.ModTime()) || now.Size() != old.Size() || !os.SameFile(now, old) {
			return true
		}
	}
	return false
}

// watch reloads on every reload signal and when the files change, until
// ctx ends. Polling rather than fsnotify: no dependency, and os.Stat
// follows symlinks, so a renamed-in file or a swapped symlink (which an
// inotify watch on the old file would miss) is seen like an edit in place.
func (r *certReloader) watch(ctx context.Context, reload <-chan struct{}, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload:
			r.reload("signal")
		case <-t.C:
			if r.changed() {
				r.reload("file changed")
			}
		}
	}
}

func stat(name string) os.FileInfo {
	fi, err := os.Stat(name)
	if err != nil {
		return nil
	}
	return fi
}
