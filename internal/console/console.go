// Package console serves the admin console under /console: a static single
// page (HTML, CSS and one JavaScript bundle built from clients/console,
// embedded in the binary) that calls fedid's API like any other client,
// signing every call with SigV4 in the browser. The console has no
// privileges of its own: it holds no secret and serves no data, only its
// files and whether development mode is on.
package console

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assets embed.FS

// Assets are the console's files (index.html, console.css, console.js).
func Assets() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err)
	}
	return sub
}

// ContentSecurityPolicy is the policy of every /console response: scripts,
// styles and connections to fedid's own origin only, no inline script or
// style, no framing, no plugins, forms only to itself.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Options are what the page is told at start (GET /console/config.json).
type Options struct {
	// Dev is development mode (--dev): the sign-in form offers test/test.
	Dev bool
	// TestKey: test/test is accepted (with --dev, or on loopback with no
	// access key); the sign-in form offers it.
	TestKey bool
	// Region is the deployment's region, the default signing region.
	Region string
}

// Handler serves the console.
func Handler(o Options) http.Handler {
	files := Assets()
	config, err := json.Marshal(struct {
		Dev     bool   `json:"dev"`
		TestKey bool   `json:"testKey"`
		Region  string `json:"region"`
	}{o.Dev, o.TestKey, o.Region})
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/console")
		name = strings.TrimPrefix(name, "/")
		switch name {
		case "":
			name = "index.html"
		case "config.json":
			h.Set("Content-Type", "application/json")
			_, _ = w.Write(config)
			return
		}
		if name != path.Clean(name) || strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		b, err := fs.ReadFile(files, name)
		if err != nil || name == "." {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", contentType(name))
		_, _ = w.Write(b)
	})
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".png":
		return "image/png"
	case ".svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}
