package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestProviderEndpointsFlag(t *testing.T) {
	got, err := parseProviderEndpoints(" graph.facebook.com=http://127.0.0.1:8081 , www.amazon.com=https://amzn.test/,api.twitter.com=http://[::1]:9")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["graph.facebook.com"] != "http://127.0.0.1:8081" || got["www.amazon.com"] != "https://amzn.test/" {
		t.Fatalf("parsed %v", got)
	}
	if got, err := parseProviderEndpoints(""); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v %v", got, err)
	}
	db := filepath.Join(t.TempDir(), "x.db")
	for value, want := range map[string]string{
		"graph.facebook.com":                  `serve: --provider-endpoints: "graph.facebook.com" is not provider=URL`,
		"accounts.google.com=http://x":        `serve: --provider-endpoints: "accounts.google.com" is not a provider fedid asks`,
		"www.amazon.com=127.0.0.1:8080":       `serve: --provider-endpoints: www.amazon.com="127.0.0.1:8080" is not an http(s) URL`,
		"api.twitter.com=http://x/?debug=yes": `serve: --provider-endpoints: api.twitter.com="http://x/?debug=yes" is not an http(s) URL`,
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{"serve", "--db", db, "--provider-endpoints", value}, &out, &errb)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", value, err, want)
		}
	}
	// The environment variable, too.
	t.Setenv("FEDID_PROVIDER_ENDPOINTS", "nope")
	var out, errb bytes.Buffer
	err = run(context.Background(), []string{"serve", "--db", db}, &out, &errb)
	if err == nil || !strings.HasPrefix(err.Error(), `serve: --provider-endpoints: "nope" is not provider=URL`) {
		t.Errorf("FEDID_PROVIDER_ENDPOINTS: %v", err)
	}
}
