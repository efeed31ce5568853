package seal

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func key(t *testing.T) *Key {
	t.Helper()
	text, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	k, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRoundTripAndBinding(t *testing.T) {
	k := key(t)
	plain := []byte("secret access key")
	v := k.Seal(plain, "access_keys/AKIA1")
	if !IsSealed(v) || KeyID(v) != k.ID() || bytes.Contains(v, plain) {
		t.Fatalf("sealed value %q", v)
	}
	if !strings.HasPrefix(string(v), "sealed:v1:"+k.ID()+":") {
		t.Fatalf("format %q", v)
	}
	got, err := k.Open(v, "access_keys/AKIA1")
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q %v", got, err)
	}
	// Moved to another row: refused.
	if _, err := k.Open(v, "access_keys/AKIA2"); err == nil {
		t.Fatal("a value moved to another row opened")
	}
	// Two seals of one value differ (random nonce).
	if bytes.Equal(v, k.Seal(plain, "access_keys/AKIA1")) {
		t.Fatal("same ciphertext twice")
	}
	// Tampered: refused.
	w := bytes.Clone(v)
	w[len(w)-3] ^= 1
	if _, err := k.Open(w, "access_keys/AKIA1"); err == nil {
		t.Fatal("a tampered value opened")
	}
}

func TestWrongOrMissingKey(t *testing.T) {
	k1, k2 := key(t), key(t)
	v := k1.Seal([]byte("x"), "r")
	for _, k := range []*Key{nil, k2} {
		_, err := k.Open(v, "r")
		var nk *NeedKeyError
		if !errors.As(err, &nk) || nk.Need != k1.ID() || !strings.Contains(err.Error(), k1.ID()) {
			t.Fatalf("key %v: %v", k, err)
		}
	}
}

func TestNilKeyIsPlaintext(t *testing.T) {
	var k *Key
	if got := k.SealString("plain", "r"); got != "plain" {
		t.Fatal(got)
	}
	if got, err := k.OpenString("plain", "r"); err != nil || got != "plain" {
		t.Fatal(got, err)
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, KeySize)
	k, err := New(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v", k, k, k)} {
		if strings.Contains(s, "BwcH") || strings.Contains(s, "\x07") || strings.Contains(s, "7 7") {
			t.Fatalf("printed %q", s)
		}
	}
	if _, err := Parse([]byte("not base64!")); err == nil || strings.Contains(err.Error(), "not base64!") {
		t.Fatalf("parse error %v", err)
	}
	if _, err := Parse([]byte("c2hvcnQ=")); err == nil {
		t.Fatal("a short key parsed")
	}
}
