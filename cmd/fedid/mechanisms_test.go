package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSupportedMechanismsOnly holds the product's own source (not its
// tests) to what a new Go release keeps building: no go:linkname, no
// assembly, and GOMAXPROCS left to Go's default (which follows the
// container's CPU quota).
func TestSupportedMechanismsOnly(t *testing.T) {
	root := filepath.Join("..", "..")
	setProcs := regexp.MustCompile(`runtime\.GOMAXPROCS\(\s*[^0\s)]`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		name := d.Name()
		if strings.HasSuffix(name, ".s") {
			t.Errorf("%s: assembly in the product", path)
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		src := string(b)
		if strings.Contains(src, "//go:"+"linkname") {
			t.Errorf("%s: go:%s", path, "linkname")
		}
		if setProcs.MatchString(src) {
			t.Errorf("%s sets GOMAXPROCS", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
