package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/sigv4"
)

// countingStore counts the writes of key use.
type countingStore struct {
	fedid.Store
	touches atomic.Int32
}

func (c *countingStore) TouchAccessKey(ctx context.Context, id string, t time.Time) error {
	c.touches.Add(1)
	return c.Store.TouchAccessKey(ctx, id, t)
}

func signed(t *testing.T, keyID, secret string, at time.Time) *http.Request {
	t.Helper()
	const body = `{}`
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9600/", strings.NewReader(body))
	r.Host = "127.0.0.1:9600"
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.ListIdentityPools")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
		r, hex.EncodeToString(sum[:]), "cognito-identity", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLastUsedIsFlushedNotWrittenPerRequest: several verified requests
// within the minute write nothing by themselves and one UPDATE at the
// flush, which then shows in the key list; a forged request, the test key
// and an unused key are not recorded.
func TestLastUsedIsFlushedNotWrittenPerRequest(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: openStore(t)}
	clk := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	const id, secret = "AKIAEXAMPLE000000001", "s3cret"
	k, err := Open(ctx, st, Options{Addr: "127.0.0.1:9600", Dev: true, Clock: clk,
		AccessKey: fedid.AccessKey{ID: id, Secret: secret, Account: "123456789012"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutAccessKey(ctx, fedid.AccessKey{ID: "AKIAUNUSED0000000001", Secret: "x", Account: "123456789012", Created: clk.t}); err != nil {
		t.Fatal(err)
	}
	v := sigv4.NewVerifier("cognito-identity", k.Lookup, clk)
	var last time.Time
	for i := range 5 {
		clk.t = clk.t.Add(10 * time.Second) // all within one minute
		last = clk.t
		if _, err := v.Verify(ctx, signed(t, id, secret, clk.t), []byte(`{}`)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if _, err := v.Verify(ctx, signed(t, id, "wrong", clk.t.Add(time.Second)), []byte(`{}`)); err == nil {
		t.Fatal("forged request verified")
	}
	if _, err := v.Verify(ctx, signed(t, TestKeyID, TestSecret, clk.t), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if n := st.touches.Load(); n != 0 {
		t.Fatalf("%d writes before the flush: requests must not write", n)
	}
	if n := k.Flush(ctx); n != 1 || st.touches.Load() != 1 {
		t.Fatalf("flush wrote %d keys, %d writes; want 1", n, st.touches.Load())
	}
	if n := k.Flush(ctx); n != 0 || st.touches.Load() != 1 {
		t.Fatalf("an idle flush wrote %d", n)
	}
	ks, err := st.ListAccessKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range ks {
		switch key.ID {
		case id:
			if !key.LastUsed.Equal(last) {
				t.Fatalf("last used %v, want %v (the forged request must not count)", key.LastUsed, last)
			}
		default:
			if !key.LastUsed.IsZero() {
				t.Fatalf("%s never used but %v", key.ID, key.LastUsed)
			}
		}
	}
}

// TestDeletedKeyStopsWithinTheCacheTTL: a key deleted from the store (by
// `fedid keys delete`, another process) stops verifying once the cached
// credential expires, CacheTTL at most.
func TestDeletedKeyStopsWithinTheCacheTTL(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	const id, secret = "AKIAEXAMPLE000000002", "s3cret"
	k, err := Open(ctx, st, Options{Addr: "127.0.0.1:9600", AccessKey: fedid.AccessKey{ID: id, Secret: secret, Account: "123456789012"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Lookup(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteAccessKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(CacheTTL + 2*time.Second)
	for {
		_, err := k.Lookup(ctx, id)
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deleted key still resolves after %v", CacheTTL)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
