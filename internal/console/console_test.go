package console

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The embedded bundle is the build of the committed sources: its first
// line names the SHA-256 of clients/console's src/*, package-lock.json and
// build.mjs, computed as build.mjs does. A change to the sources without
// `clients/console/build.sh` fails here.
func TestBundleIsBuiltFromTheSources(t *testing.T) {
	root := filepath.Join("..", "..", "clients", "console")
	srcs, err := os.ReadDir(filepath.Join(root, "src"))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"package-lock.json", "build.mjs"}
	for _, e := range srcs {
		names = append(names, "src/"+e.Name())
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(n)))
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(n + "\x00"))
		h.Write(b)
		h.Write([]byte("\x00"))
	}
	want := hex.EncodeToString(h.Sum(nil))
	js, err := fs.ReadFile(Assets(), "console.js")
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(js), "\n")
	if !strings.Contains(first, "sources sha256 "+want) {
		t.Fatalf("internal/console/assets/console.js was not built from the current sources (want sha256 %s, the bundle says %q): run clients/console/build.sh", want, first)
	}
	// The copied files are the sources'.
	for _, n := range []string{"index.html", "console.css"} {
		src, err := os.ReadFile(filepath.Join(root, "src", n))
		if err != nil {
			t.Fatal(err)
		}
		emb, err := fs.ReadFile(Assets(), n)
		if err != nil {
			t.Fatal(err)
		}
		if string(src) != string(emb) {
			t.Errorf("assets/%s differs from clients/console/src/%s: run clients/console/build.sh", n, n)
		}
	}
}

// index.html loads the bundle and the style sheet, both embedded, and
// nothing inline (the policy would refuse it).
func TestIndexReferencesTheAssets(t *testing.T) {
	html, err := fs.ReadFile(Assets(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{`<script src="/console/console.js"`, `<link rel="stylesheet" href="/console/console.css">`} {
		if !strings.Contains(string(html), ref) {
			t.Errorf("index.html lacks %s", ref)
		}
	}
	if regexp.MustCompile(`<script(\s[^>]*)?>[^<]+</script>|<script>|\sstyle=|\son[a-z]+=|<style`).Match(html) {
		t.Errorf("index.html has inline script or style:\n%s", html)
	}
	for _, n := range []string{"console.js", "console.css"} {
		if b, err := fs.ReadFile(Assets(), n); err != nil || len(b) < 1000 {
			t.Errorf("assets/%s: %d bytes, %v", n, len(b), err)
		}
	}
}

func TestHandler(t *testing.T) {
	h := Handler(Options{Dev: true, TestKey: true, Region: "eu-west-1"})
	for _, tc := range []struct {
		method, path string
		status       int
		ctype, body  string
	}{
		{"GET", "/console", 200, "text/html; charset=utf-8", "<title>fedid console</title>"},
		{"GET", "/console/", 200, "text/html; charset=utf-8", "<title>fedid console</title>"},
		{"GET", "/console/console.js", 200, "text/javascript; charset=utf-8", "fedid console"},
		{"GET", "/console/console.css", 200, "text/css; charset=utf-8", ":root"},
		{"GET", "/console/config.json", 200, "application/json", `{"dev":true,"testKey":true,"region":"eu-west-1"}`},
		{"HEAD", "/console/console.css", 200, "text/css; charset=utf-8", ""},
		{"GET", "/console/nope.js", 404, "", ""},
		{"GET", "/console/x/../console.js", 404, "", ""},
		{"GET", "/console/sub/console.js", 404, "", ""},
		{"POST", "/console/", 405, "", ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.status)
		}
		if got := rec.Header().Get("Content-Security-Policy"); got != ContentSecurityPolicy {
			t.Errorf("%s %s: CSP %q", tc.method, tc.path, got)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s %s: headers %v", tc.method, tc.path, rec.Header())
		}
		if tc.ctype != "" && rec.Header().Get("Content-Type") != tc.ctype {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, rec.Header().Get("Content-Type"))
		}
		if !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s %s: body lacks %q", tc.method, tc.path, tc.body)
		}
	}
	if rec := httptest.NewRecorder(); true {
		Handler(Options{Region: "us-east-1"}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/config.json", nil))
		if got := rec.Body.String(); got != `{"dev":false,"testKey":false,"region":"us-east-1"}` {
			t.Errorf("config without dev: %s", got)
		}
	}
}
