package app

import "testing"

func TestRedactDB(t *testing.T) {
	for in, want := range map[string]string{
		"fedid.db": "fedid.db",
		"postgres://fedid:s3cret@db.example:5432/fedid?sslmode=require": "postgres://fedid:xxxxx@db.example:5432/fedid?sslmode=require",
		"postgresql://db.example/fedid?user=fedid&password=s3cret&x=1":  "postgresql://db.example/fedid?password=xxxxx&user=fedid&x=1",
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable":       "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
	} {
		if got := RedactDB(in); got != want {
			t.Errorf("RedactDB(%q) = %q, want %q", in, got, want)
		}
	}
}
