package storetest

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/keys"
	"github.com/fedid/fedid/internal/seal"
	"github.com/fedid/fedid/internal/store/sqlstore"
)

// SealedEngine is what RunSealed needs of a backend: open (or reopen) one
// database with options, and dump every byte it holds at rest, the store
// being closed or open.
type SealedEngine struct {
	// Open opens the test's one database; it returns the open error.
	Open func(t *testing.T, opts ...sqlstore.Option) (fedid.Store, error)
	// Dump returns the raw content of the database: the files of SQLite
	// after a checkpoint, every column of every table of PostgreSQL.
	Dump func(t *testing.T) []byte
}

// censuser is what sqlstore's stores tell of their sealing.
type censuser interface {
	Census(context.Context) (map[string]int, error)
}

// MasterKey makes a fresh master key.
func MasterKey(t testing.TB) *seal.Key {
	t.Helper()
	text, err := seal.Generate()
	if err != nil {
		t.Fatal(err)
	}
	k, err := seal.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// secrets are the secret values a test stores, and every form of them
// that must never be found at rest.
type secrets struct {
	access  fedid.AccessKey
	session fedid.Session
	needles map[string][]byte
}

func fill(t *testing.T, s fedid.Store) *secrets {
	t.Helper()
	sec := &secrets{
		access: fedid.AccessKey{ID: "AKIASEALTEST00000001", Secret: "Zq8sealedSecretAccessKey0123456789abcdEF", Account: "111111111111", Created: base},
		session: fedid.Session{AccessKeyID: "ASIASEALTEST00000001", Secret: "Yp7sessionSecretAccessKey0123456789abcdE", TokenHash: []byte{9, 9, 9},
			Account: "111111111111", RoleARN: "arn:aws:iam::111111111111:role/r", IdentityID: "us-east-1:x", PoolID: "us-east-1:p",
			CreatedAt: base, ExpiresAt: base.Add(time.Hour)},
	}
	if err := s.PutAccessKey(ctx, sec.access); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSession(ctx, sec.session); err != nil {
		t.Fatal(err)
	}
	// A real signing key, made and stored the way fedid makes them.
	if err := keys.NewManager(s, fedid.SystemClock{}, keys.Options{}).Init(ctx); err != nil {
		t.Fatal(err)
	}
	ks, err := s.SigningKeys(ctx)
	if err != nil || len(ks) == 0 {
		t.Fatalf("signing keys: %v %v", ks, err)
	}
	sec.needles = map[string][]byte{
		"access key secret":  []byte(sec.access.Secret),
		"session secret":     []byte(sec.session.Secret),
		"session secret b64": []byte(base64.StdEncoding.EncodeToString([]byte(sec.session.Secret))),
	}
	for _, k := range ks {
		priv, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		rk := priv.(*rsa.PrivateKey)
		pkcs1 := x509.MarshalPKCS1PrivateKey(rk)
		pem8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k.PrivateKey})
		pem1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1})
		// Any one line of a PEM body gives away part of the key; the
		// second line of each is searched on its own.
		line := func(p []byte) []byte { return bytes.Split(p, []byte("\n"))[2] }
		sec.needles[k.ID+" PKCS#8 DER"] = k.PrivateKey
		sec.needles[k.ID+" PKCS#8 DER (middle)"] = k.PrivateKey[len(k.PrivateKey)/2 : len(k.PrivateKey)/2+32]
		sec.needles[k.ID+" PKCS#1 DER"] = pkcs1
		sec.needles[k.ID+" PEM PKCS#8"] = pem8
		sec.needles[k.ID+" PEM PKCS#8 line"] = line(pem8)
		sec.needles[k.ID+" PEM PKCS#1"] = pem1
		sec.needles[k.ID+" PEM PKCS#1 line"] = line(pem1)
		sec.needles[k.ID+" JWK d"] = []byte(base64.RawURLEncoding.EncodeToString(rk.D.Bytes()))
		sec.needles[k.ID+" d bytes"] = rk.D.Bytes()
		sec.needles[k.ID+" prime p"] = rk.Primes[0].Bytes()
	}
	return sec
}

// check reads the secrets back in plaintext.
func (sec *secrets) check(t *testing.T, s fedid.Store) {
	t.Helper()
	k, err := s.GetAccessKey(ctx, sec.access.ID)
	if err != nil || k.Secret != sec.access.Secret {
		t.Fatalf("access key read back wrong (err %v)", err)
	}
	se, err := s.GetSession(ctx, sec.session.AccessKeyID)
	if err != nil || se.Secret != sec.session.Secret {
		t.Fatalf("session read back wrong (err %v)", err)
	}
	ks, err := s.SigningKeys(ctx)
	if err != nil || len(ks) == 0 {
		t.Fatalf("signing keys: %v", err)
	}
	for _, k := range ks {
		if _, err := x509.ParsePKCS8PrivateKey(k.PrivateKey); err != nil {
			t.Fatalf("signing key %s read back is not PKCS#8: %v", k.ID, err)
		}
	}
}

// absent fails when any needle is in the dump; present when none is (the
// dump itself is then suspect).
func (sec *secrets) absent(t *testing.T, dump []byte) {
	t.Helper()
	for name, n := range sec.needles {
		if bytes.Contains(dump, n) {
			t.Errorf("%s found at rest (%d bytes of dump)", name, len(dump))
		}
	}
}

func (sec *secrets) present(t *testing.T, dump []byte) {
	t.Helper()
	if !bytes.Contains(dump, sec.needles["access key secret"]) {
		t.Fatalf("plaintext store: access key secret not in the dump; the dump misses data (%d bytes)", len(dump))
	}
}

func wantCensus(t *testing.T, s fedid.Store, want map[string]int) {
	t.Helper()
	got, err := s.(censuser).Census(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("census %v, want %v", got, want)
	}
	for id, n := range want {
		if got[id] != n {
			t.Fatalf("census %v, want %v", got, want)
		}
	}
}

func wantRefused(t *testing.T, e SealedEngine, need string, opts ...sqlstore.Option) {
	t.Helper()
	s, err := e.Open(t, opts...)
	if err == nil {
		s.Close()
		t.Fatalf("opened a store sealed with %s", need)
	}
	var nk *seal.NeedKeyError
	if !errors.As(err, &nk) || nk.Need != need {
		t.Fatalf("error %v, want a NeedKeyError for %s", err, need)
	}
	if msg := err.Error(); !strings.Contains(msg, "sealed with master key "+need) || !strings.Contains(msg, "--master-key-file") {
		t.Fatalf("message %q does not say which key to give", msg)
	}
}

// RunSealed proves that with a master key no secret is stored in
// plaintext, that a sealed store refuses a missing or wrong key by naming
// the one it needs, that rotation re-seals, and that a plaintext store
// given a key seals what it holds.
func RunSealed(t *testing.T, engine func(t *testing.T) SealedEngine) {
	// Three secrets per store: an access key, a session, a signing key.
	t.Run("AtRestAndRefusals", func(t *testing.T) {
		e := engine(t)
		k1, k2 := MasterKey(t), MasterKey(t)
		s, err := e.Open(t, sqlstore.WithMasterKey(k1))
		if err != nil {
			t.Fatal(err)
		}
		sec := fill(t, s)
		sec.check(t, s)
		wantCensus(t, s, map[string]int{k1.ID(): 3})
		sec.absent(t, e.Dump(t)) // open: SQLite's WAL holds the writes
		s.Close()
		sec.absent(t, e.Dump(t))

		wantRefused(t, e, k1.ID())
		wantRefused(t, e, k1.ID(), sqlstore.WithMasterKey(k2))

		// Rotation: k1 to k2.
		s, err = e.Open(t, sqlstore.WithMasterKey(k2), sqlstore.WithPreviousKeys(k1))
		if err != nil {
			t.Fatal(err)
		}
		wantCensus(t, s, map[string]int{k2.ID(): 3})
		sec.check(t, s)
		s.Close()
		sec.absent(t, e.Dump(t))
		wantRefused(t, e, k2.ID(), sqlstore.WithMasterKey(k1))
		s, err = e.Open(t, sqlstore.WithMasterKey(k2))
		if err != nil {
			t.Fatal(err)
		}
		sec.check(t, s)
		s.Close()
	})
	t.Run("PlaintextThenSealed", func(t *testing.T) {
		e := engine(t)
		s, err := e.Open(t)
		if err != nil {
			t.Fatal(err)
		}
		sec := fill(t, s)
		wantCensus(t, s, map[string]int{"": 3})
		s.Close()
		sec.present(t, e.Dump(t))
		k := MasterKey(t)
		s, err = e.Open(t, sqlstore.WithMasterKey(k))
		if err != nil {
			t.Fatal(err)
		}
		wantCensus(t, s, map[string]int{k.ID(): 3})
		sec.check(t, s)
		s.Close()
		// SQLite vacuums after sealing: no old plaintext in free pages.
		sec.absent(t, e.Dump(t))
	})
}
