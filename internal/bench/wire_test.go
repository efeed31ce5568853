package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestWireSignatureMatchesSDK holds the load tool's request bytes to what
// aws-sdk-go-v2's signer produces for the same request: same signed
// headers, same signature, across a day boundary and for several bodies.
func TestWireSignatureMatchesSDK(t *testing.T) {
	w, err := newWire(Config{Endpoint: "http://127.0.0.1:9600", Region: "eu-west-2", AccessKey: "AKIDEXAMPLE",
		Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"})
	if err != nil {
		t.Fatal(err)
	}
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	times := []time.Time{
		time.Date(2026, 12, 1, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), // the derived key changes
		time.Date(2026, 12, 2, 0, 0, 0, 500, time.UTC),
	}
	bodies := []string{`{"IdentityPoolId":"eu-west-2:x","Logins":{"a":"user-1"}}`, `{}`, strings.Repeat(`{"k":"é"}`, 100)}
	for _, now := range times {
		for _, body := range bodies {
			w.build("GetOpenIdTokenForDeveloperIdentity", []byte(body), true, now)
			got, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(w.req)))
			if err != nil {
				t.Fatalf("the load tool's request does not parse: %v\n%s", err, w.req)
			}
			gotBody, _ := io.ReadAll(got.Body)
			if string(gotBody) != body || got.Host != "127.0.0.1:9600" {
				t.Fatalf("body %q host %q", gotBody, got.Host)
			}
			want, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9600/", strings.NewReader(body))
			want.Header.Set("Content-Type", "application/x-amz-json-1.1")
			want.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity")
			sum := sha256.Sum256([]byte(body))
			if err := signer.SignHTTP(context.Background(), creds, want, hex.EncodeToString(sum[:]), "cognito-identity", "eu-west-2", now); err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"Authorization", "X-Amz-Date", "Content-Type", "X-Amz-Target"} {
				if got.Header.Get(h) != want.Header.Get(h) {
					t.Fatalf("%s at %s\n got %s\nwant %s", h, now, got.Header.Get(h), want.Header.Get(h))
				}
			}
		}
	}
}

// TestWireResponses reads fixed-length, chunked and close-delimited
// responses and reconnects after the server closes a connection.
func TestWireResponses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	replies := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.0 500 Oops\r\n\r\nuntil the end",
	}
	go func() {
		i := 0
		for i < len(replies) {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(c)
			for i < len(replies) {
				req, err := http.ReadRequest(br)
				if err != nil {
					break
				}
				io.Copy(io.Discard, req.Body)
				r := replies[i]
				i++
				c.Write([]byte(r))
				if strings.Contains(r, "close") || strings.HasPrefix(r, "HTTP/1.0") {
					break
				}
			}
			c.Close()
		}
	}()
	w, err := newWire(Config{Endpoint: "http://" + ln.Addr().String(), Region: "us-east-1", AccessKey: "test", Secret: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status int
		body   string
	}{{200, "hello"}, {400, "abcde"}, {200, "ok"}, {500, "until the end"}}
	for i, wt := range want {
		status, body, err := w.call(context.Background(), "GetId", []byte(`{}`), i%2 == 0, time.Now())
		if err != nil || status != wt.status || string(body) != wt.body {
			t.Fatalf("reply %d: %d %q %v, want %d %q", i, status, body, err, wt.status, wt.body)
		}
	}
}
