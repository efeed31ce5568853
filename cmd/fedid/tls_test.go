package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeTLSFlags: the certificate and key go together, and a pair that
// does not load stops fedid at start rather than failing every handshake.
func TestServeTLSFlags(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	var out, errb bytes.Buffer
	for _, args := range [][]string{{"--tls-cert", "c.pem"}, {"--tls-key", "k.pem"}} {
		err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, args...), &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "--tls-cert and --tls-key (FEDID_TLS_CERT, FEDID_TLS_KEY) must be set together") {
			t.Fatalf("%v: %v", args, err)
		}
	}
	t.Setenv("FEDID_TLS_CERT", "c.pem")
	if err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, &out, &errb); err == nil ||
		!strings.Contains(err.Error(), "must be set together") {
		t.Fatalf("FEDID_TLS_CERT alone: %v", err)
	}
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FEDID_TLS_CERT", bad)
	t.Setenv("FEDID_TLS_KEY", bad)
	if err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, &out, &errb); err == nil ||
		!strings.HasPrefix(err.Error(), "TLS: ") {
		t.Fatalf("bad pair: %v", err)
	}
}
