//go:build cgo && (linux || darwin || freebsd)

package keys

/*
// The signing call only reads and writes the jobs it is given and never
// calls back into Go: its argument can stay where Go put it.
#cgo linux LDFLAGS: -ldl
#cgo noescape fedid_ossl_sign_jobs
#cgo nocallback fedid_ossl_sign_jobs
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

// The few libcrypto functions fedid needs, looked up at run time with
// dlopen so that building fedid needs no OpenSSL headers and a machine
// without libcrypto still runs it (on crypto/rsa). Each signature and
// argument list below is the same in OpenSSL 1.1.1 and 3.x.
typedef struct fedid_pkey fedid_pkey;
typedef struct fedid_pctx fedid_pctx;
typedef struct fedid_md fedid_md;

static void *fedid_lib;
static fedid_pkey *(*p_d2i_PrivateKey)(int, fedid_pkey **, const unsigned char **, long);
static fedid_pctx *(*p_EVP_PKEY_CTX_new)(fedid_pkey *, void *);
static int (*p_EVP_PKEY_sign_init)(fedid_pctx *);
static int (*p_EVP_PKEY_CTX_ctrl)(fedid_pctx *, int, int, int, int, void *);
static const fedid_md *(*p_EVP_sha512)(void);
static int (*p_EVP_PKEY_sign)(fedid_pctx *, unsigned char *, size_t *, const unsigned char *, size_t);
static void (*p_EVP_PKEY_CTX_free)(fedid_pctx *);
static void (*p_EVP_PKEY_free)(fedid_pkey *);
static const char *(*p_OpenSSL_version)(int);
static unsigned long (*p_ERR_get_error)(void);
static void (*p_ERR_clear_error)(void);

// Constants of OpenSSL's public headers, equal in 1.1.1 and 3.x.
enum {
	FEDID_EVP_PKEY_RSA = 6,
	FEDID_EVP_PKEY_CTRL_MD = 1,
	FEDID_EVP_PKEY_CTRL_RSA_PADDING = 0x1000 + 1,
	FEDID_RSA_PKCS1_PADDING = 1,
};

#define FEDID_SYM(name) \
	if (!(*(void **)(&p_##name) = dlsym(fedid_lib, #name))) return -1;

static int fedid_ossl_open(const char *file) {
	fedid_lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!fedid_lib) return -1;
	FEDID_SYM(d2i_PrivateKey)
	FEDID_SYM(EVP_PKEY_CTX_new)
	FEDID_SYM(EVP_PKEY_sign_init)
	FEDID_SYM(EVP_PKEY_CTX_ctrl)
	FEDID_SYM(EVP_sha512)
	FEDID_SYM(EVP_PKEY_sign)
	FEDID_SYM(EVP_PKEY_CTX_free)
	FEDID_SYM(EVP_PKEY_free)
	FEDID_SYM(OpenSSL_version)
	FEDID_SYM(ERR_get_error)
	FEDID_SYM(ERR_clear_error)
	return 0;
}

static const char *fedid_ossl_version(void) { return p_OpenSSL_version(0); }

// fedid_ossl_ctx makes a signing context for an RSA key given as PKCS #1
// DER, set up once for RSASSA-PKCS1-v1_5 over a SHA-512 digest, so that a
// signature is a single EVP_PKEY_sign call. Each context holds its own
// copy of the key: threads signing at once share no key state (OpenSSL's
// blinding lock among it).
static fedid_pctx *fedid_ossl_ctx(const unsigned char *der, long len) {
	const unsigned char *p = der;
	fedid_pkey *key = p_d2i_PrivateKey(FEDID_EVP_PKEY_RSA, NULL, &p, len);
	if (!key) { p_ERR_clear_error(); return NULL; }
	fedid_pctx *ctx = p_EVP_PKEY_CTX_new(key, NULL);
	p_EVP_PKEY_free(key); // the context holds its own reference
	if (!ctx) { p_ERR_clear_error(); return NULL; }
	if (p_EVP_PKEY_sign_init(ctx) != 1 ||
	    p_EVP_PKEY_CTX_ctrl(ctx, FEDID_EVP_PKEY_RSA, -1, FEDID_EVP_PKEY_CTRL_RSA_PADDING, FEDID_RSA_PKCS1_PADDING, NULL) <= 0 ||
	    p_EVP_PKEY_CTX_ctrl(ctx, -1, -1, FEDID_EVP_PKEY_CTRL_MD, 0, (void *)p_EVP_sha512()) <= 0) {
		p_EVP_PKEY_CTX_free(ctx);
		p_ERR_clear_error();
		return NULL;
	}
	return ctx;
}

// fedid_ossl_sign signs a SHA-512 digest; it returns the signature's
// length, or 0 and OpenSSL's error code in *code.
static size_t fedid_ossl_sign(fedid_pctx *ctx, const unsigned char *digest, size_t dlen,
		unsigned char *sig, size_t cap, unsigned long *code) {
	size_t n = cap;
	if (p_EVP_PKEY_sign(ctx, sig, &n, digest, dlen) != 1) {
		*code = p_ERR_get_error();
		p_ERR_clear_error();
		return 0;
	}
	return n;
}

static void fedid_ossl_ctx_free(fedid_pctx *ctx) { p_EVP_PKEY_CTX_free(ctx); }

// fedid_job is one signature of a batch (see signBatch): inputs and
// outputs inline, so that Go can pass an array of them to C (it holds no
// Go pointer).
typedef struct {
	fedid_pctx *ctx;
	size_t cap, n;
	unsigned long code;
	unsigned char digest[64];
	unsigned char sig[1024];
} fedid_job;

// fedid_ossl_sign_jobs makes k signatures in one call.
static void fedid_ossl_sign_jobs(fedid_job *j, int k) {
	for (int x = 0; x < k; x++)
		j[x].n = fedid_ossl_sign(j[x].ctx, j[x].digest, sizeof j[x].digest, j[x].sig, j[x].cap, &j[x].code);
}

*/
import "C"

import (
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// openOpenSSL loads the first libcrypto of names that has every symbol,
// and returns its version text.
func openOpenSSL(names []string) (string, bool) {
	for _, name := range names {
		cs := C.CString(name)
		rc := C.fedid_ossl_open(cs)
		C.free(unsafe.Pointer(cs))
		if rc == 0 {
			return C.GoString(C.fedid_ossl_version()), true
		}
	}
	return "", false
}

// osslSigner signs through libcrypto. It keeps ready contexts in a free
// list, so a signature costs one EVP_PKEY_sign and no per-call set-up, and
// concurrent signatures each take their own context: no lock is held while
// signing, and signing scales on every core (through signBatch).
type osslSigner struct {
	key  *rsa.PrivateKey
	size int
	free chan *C.fedid_pctx
}

// maxIdleContexts bounds the free list; signing more at once than this
// makes (and afterwards frees) extra contexts.
const maxIdleContexts = 64

func newOSSLSigner(key *rsa.PrivateKey) (*osslSigner, error) {
	if key.Size() > 1024 {
		return nil, errors.New("keys: RSA key over 8192 bits")
	}
	s := &osslSigner{key: key, size: key.Size(), free: make(chan *C.fedid_pctx, maxIdleContexts)}
	ctx, err := s.newContext()
	if err != nil {
		return nil, err
	}
	s.free <- ctx
	runtime.AddCleanup(s, freeContexts, s.free)
	return s, nil
}

func (s *osslSigner) newContext() (*C.fedid_pctx, error) {
	der := x509.MarshalPKCS1PrivateKey(s.key)
	ctx := C.fedid_ossl_ctx((*C.uchar)(unsafe.Pointer(&der[0])), C.long(len(der)))
	clear(der) // the private key does not linger in a garbage buffer
	if ctx == nil {
		return nil, errors.New("keys: openssl could not load the signing key")
	}
	return ctx, nil
}

func (s *osslSigner) sign(digest []byte) ([]byte, error) {
	if len(digest) != sha512.Size {
		return nil, fmt.Errorf("keys: a %d-byte digest is not SHA-512", len(digest))
	}
	var ctx *C.fedid_pctx
	select {
	case ctx = <-s.free:
	default:
		var err error
		if ctx, err = s.newContext(); err != nil {
			return nil, err
		}
	}
	sig := make([]byte, s.size)
	n, code := signBatch(ctx, digest, sig)
	if n == 0 {
		C.fedid_ossl_ctx_free(ctx) // not reused after a failure
		return nil, fmt.Errorf("keys: openssl sign failed (error %#x)", uint64(code))
	}
	select {
	case s.free <- ctx:
	default:
		C.fedid_ossl_ctx_free(ctx)
	}
	return sig[:n], nil
}

// Why signatures are made in batches: a cgo call as long as an RSA-2048
// signature (about 260 µs) loses its P. sysmon sees the call outlast its
// 20 µs tick and hands the P to another thread, and on return the calling
// thread must wait for a P again: a few thread switches and futex wake-ups
// per call, and sysmon polling every 20 µs while such calls go on. Those
// costs come per cgo call, not per signature. So at most maxSigning calls
// sign at once; a signature asked for while they all run waits in a queue,
// and the next call signs every waiting signature (up to maxBatch) at once.
// The caller that finds a call free makes it on its own goroutine, so a
// signature that waits for nobody costs one plain cgo call (signer
// goroutines fed by a channel cost 15-25 % more per bare signature); while
// signatures wait it goes on with further batches, as its thread already
// runs with a P. Measured figures are in the commit message of this change.

// maxBatch bounds the signatures of one cgo call: a batch delays its last
// signature by the ones before it (about 260 µs each).
const maxBatch = 8

// maxLeadBatches bounds the batches one caller signs before its own
// signature (in its first batch) is returned.
const maxLeadBatches = 4

// signReq is one signature asked for. wake receives true when n and code
// are set and sig is written, false when its goroutine is to lead the next
// batch (its own signature among it).
type signReq struct {
	ctx         *C.fedid_pctx
	digest, sig []byte
	n           C.size_t
	code        C.ulong
	wake        chan bool
}

var (
	signMu    sync.Mutex
	signQueue []*signReq // waiting for a batch, oldest first
	signing   int        // batches being signed (at most maxSigning)
	// maxSigning is the number of Ps when fedid starts: more signatures at
	// once could not run Go code anyway.
	maxSigning = runtime.GOMAXPROCS(0)

	// The pools save two allocations per signature (the request and its
	// channel) and one per batch (9 KB of jobs).
	reqPool  = sync.Pool{New: func() any { return &signReq{wake: make(chan bool, 1)} }}
	jobsPool = sync.Pool{New: func() any { return new([maxBatch]C.fedid_job) }}
)

// signBatch signs digest (64 bytes) with ctx into sig, alone or in a batch,
// and returns the signature's length, or 0 and OpenSSL's error code.
func signBatch(ctx *C.fedid_pctx, digest, sig []byte) (C.size_t, C.ulong) {
	r := reqPool.Get().(*signReq)
	r.ctx, r.digest, r.sig = ctx, digest, sig
	signMu.Lock()
	if signing < maxSigning {
		signing++
		signMu.Unlock()
		lead(r)
	} else {
		signQueue = append(signQueue, r)
		signMu.Unlock()
		if done := <-r.wake; !done {
			lead(r)
		}
	}
	n, code := r.n, r.code
	*r = signReq{wake: r.wake}
	reqPool.Put(r)
	return n, code
}

// lead signs r and the signatures waiting (up to maxBatch in all) in one
// cgo call. While more wait, it signs further batches itself, up to
// maxLeadBatches in all (the thread is running and has a P: a batch started
// now costs no wake-up), then hands the lead to the oldest waiter or gives
// up its place.
func lead(r *signReq) {
	var reqs [maxBatch]*signReq
	reqs[0] = r
	k := 1
	jobs := jobsPool.Get().(*[maxBatch]C.fedid_job) // C layout, no Go pointers
	defer jobsPool.Put(jobs)
	for b := 1; ; b++ {
		signMu.Lock()
		n := copy(reqs[k:], signQueue)
		signQueue = dequeue(signQueue, n)
		signMu.Unlock()
		k += n
		for x, r := range reqs[:k] {
			j := &jobs[x]
			j.ctx, j.cap = r.ctx, C.size_t(len(r.sig))
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&j.digest[0])), len(j.digest)), r.digest)
		}
		C.fedid_ossl_sign_jobs(&jobs[0], C.int(k))
		for x, r := range reqs[:k] {
			j := &jobs[x]
			r.n, r.code = j.n, j.code
			copy(r.sig, unsafe.Slice((*byte)(unsafe.Pointer(&j.sig[0])), len(r.sig)))
			j.ctx = nil
			if x > 0 || b > 1 { // not the caller's own signature
				r.wake <- true
			}
			reqs[x] = nil
		}
		k = 0
		signMu.Lock()
		if len(signQueue) == 0 {
			signing--
			signMu.Unlock()
			return
		}
		if b == maxLeadBatches {
			next := signQueue[0]
			signQueue = dequeue(signQueue, 1)
			signMu.Unlock()
			next.wake <- false
			return
		}
		signMu.Unlock()
	}
}

// dequeue drops the first n of q in place, keeping its array.
func dequeue(q []*signReq, n int) []*signReq {
	m := copy(q, q[n:])
	clear(q[m:])
	return q[:m]
}

// freeContexts releases the idle contexts of a signer nobody uses any more.
func freeContexts(free chan *C.fedid_pctx) {
	for {
		select {
		case ctx := <-free:
			C.fedid_ossl_ctx_free(ctx)
		default:
			return
		}
	}
}
