//go:build cgo && (linux || darwin || freebsd)

package keys

/*
// The signing call only reads and writes the buffers it is given and never
// calls back into Go: its arguments can stay on the stack.
#cgo linux LDFLAGS: -ldl
#cgo noescape fedid_ossl_sign
#cgo nocallback fedid_ossl_sign
#cgo nocallback fedid_pool_submit
#cgo noescape fedid_pool_drain
#cgo nocallback fedid_pool_drain
#cgo noescape fedid_sign_batch
#cgo nocallback fedid_sign_batch
#cgo linux LDFLAGS: -lpthread
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

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

// The signing pool: C threads that sign jobs handed to them (see
// signPool). A job lives in one of a fixed array of slots allocated here,
// so no Go memory is held by C after a call returns. Submitting pushes the
// slot's index on a queue; a worker signs and writes the index to a pipe,
// whose read end Go waits on through its netpoller.
typedef struct {
	fedid_pctx *ctx;
	size_t dlen, cap, n;
	unsigned long code;
	unsigned char digest[64];
	unsigned char sig[1024];
} fedid_job;

static fedid_job *fedid_jobs;
static uint32_t *fedid_queue;
static uint32_t fedid_nslots, fedid_head, fedid_tail;
static pthread_mutex_t fedid_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fedid_cv = PTHREAD_COND_INITIALIZER;
static int fedid_done_fd = -1;
static uint32_t *fedid_done;
static uint32_t fedid_dhead, fedid_dtail;
static int fedid_dsleep;
static int fedid_v2;

static void *fedid_worker(void *unused) {
	(void)unused;
	for (;;) {
		pthread_mutex_lock(&fedid_mu);
		while (fedid_head == fedid_tail) pthread_cond_wait(&fedid_cv, &fedid_mu);
		uint32_t i = fedid_queue[fedid_head++ % fedid_nslots];
		pthread_mutex_unlock(&fedid_mu);
		fedid_job *j = &fedid_jobs[i];
		j->n = fedid_ossl_sign(j->ctx, j->digest, j->dlen, j->sig, j->cap, &j->code);
		if (fedid_v2) {
			pthread_mutex_lock(&fedid_mu);
			fedid_done[fedid_dtail++ % fedid_nslots] = i;
			int wake = fedid_dsleep;
			fedid_dsleep = 0;
			pthread_mutex_unlock(&fedid_mu);
			if (wake) {
				char b = 0;
				while (write(fedid_done_fd, &b, 1) < 0 && errno == EINTR) {}
			}
			continue;
		}
		// A 4-byte write to a pipe is atomic; the pipe holds far more
		// indices than there are slots, so this never blocks for long.
		while (write(fedid_done_fd, &i, sizeof i) < 0 && errno == EINTR) {}
	}
	return NULL;
}

// fedid_pool_start allocates nslots job slots, starts nworkers threads and
// returns the read end of the completion pipe, or -1.
static int fedid_pool_start(int nworkers, uint32_t nslots, int v2) {
	fedid_v2 = v2;
	fedid_done = calloc(nslots, sizeof *fedid_done);
	int fds[2];
	if (pipe(fds) != 0) return -1;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	fedid_jobs = calloc(nslots, sizeof *fedid_jobs);
	fedid_queue = calloc(nslots, sizeof *fedid_queue);
	if (!fedid_jobs || !fedid_queue) return -1;
	fedid_nslots = nslots;
	fedid_done_fd = fds[1];
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int started = 0;
	for (int k = 0; k < nworkers; k++) {
		pthread_t t;
		if (pthread_create(&t, &attr, fedid_worker, NULL) == 0) started++;
	}
	pthread_attr_destroy(&attr);
	return started ? fds[0] : -1;
}

static fedid_job *fedid_pool_job(uint32_t i) { return &fedid_jobs[i]; }

// fedid_pool_drain copies up to cap finished slots to out; when there are
// none it marks the dispatcher asleep, so that the next completion writes
// to the pipe.
static int fedid_pool_drain(uint32_t *out, int cap) {
	int k = 0;
	pthread_mutex_lock(&fedid_mu);
	while (k < cap && fedid_dhead != fedid_dtail) out[k++] = fedid_done[fedid_dhead++ % fedid_nslots];
	if (k == 0) fedid_dsleep = 1;
	pthread_mutex_unlock(&fedid_mu);
	return k;
}

static void fedid_sign_batch(fedid_job *j, int k) {
	for (int x = 0; x < k; x++)
		j[x].n = fedid_ossl_sign(j[x].ctx, j[x].digest, j[x].dlen, j[x].sig, j[x].cap, &j[x].code);
}

// fedid_pool_submit queues slot i; it takes a lock held only for a few
// instructions and wakes one idle worker: a short call.
static void fedid_pool_submit(uint32_t i) {
	pthread_mutex_lock(&fedid_mu);
	fedid_queue[fedid_tail++ % fedid_nslots] = i;
	pthread_cond_signal(&fedid_cv);
	pthread_mutex_unlock(&fedid_mu);
}

*/
import "C"

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
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
// signing, and signing scales on every core.
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
	var code C.ulong
	var n C.size_t
	switch {
	case signMode == "locked":
		n, code = signLocked(ctx, digest, sig)
	case signMode == "batch" && len(digest) <= 64:
		n, code = signBatch(ctx, digest, sig)
	case (signMode == "pool" || signMode == "pool2") && len(digest) <= 64:
		n, code = signPool(ctx, digest, sig)
	default:
		n = C.fedid_ossl_sign(ctx, (*C.uchar)(unsafe.Pointer(&digest[0])), C.size_t(len(digest)),
			(*C.uchar)(unsafe.Pointer(&sig[0])), C.size_t(len(sig)), &code)
	}
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

// EXPERIMENT: FEDID_SIGN_MODE picks how a signature reaches libcrypto.
var signMode = os.Getenv("FEDID_SIGN_MODE")

type lockedJob struct {
	ctx         *C.fedid_pctx
	digest, sig []byte
	n           C.size_t
	code        C.ulong
	done        chan struct{}
}

var (
	lockedOnce sync.Once
	lockedJobs chan *lockedJob
)

func signLocked(ctx *C.fedid_pctx, digest, sig []byte) (C.size_t, C.ulong) {
	lockedOnce.Do(func() {
		lockedJobs = make(chan *lockedJob, 64)
		for range runtime.NumCPU() {
			go func() {
				runtime.LockOSThread()
				for j := range lockedJobs {
					j.n = C.fedid_ossl_sign(j.ctx, (*C.uchar)(unsafe.Pointer(&j.digest[0])), C.size_t(len(j.digest)),
						(*C.uchar)(unsafe.Pointer(&j.sig[0])), C.size_t(len(j.sig)), &j.code)
					j.done <- struct{}{}
				}
			}()
		}
	})
	j := &lockedJob{ctx: ctx, digest: digest, sig: sig, done: make(chan struct{}, 1)}
	lockedJobs <- j
	<-j.done
	return j.n, j.code
}

const poolSlots = 256

var (
	poolOnce  sync.Once
	poolSlot  chan uint32
	poolWait  [poolSlots]chan struct{}
	poolReady bool
)

func startPool() {
	v2 := signMode == "pool2"
	fd := C.fedid_pool_start(C.int(runtime.NumCPU()), poolSlots, C.int(b2i(v2)))
	if fd < 0 {
		return
	}
	if err := syscall.SetNonblock(int(fd), true); err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "fedid-sign-done")
	poolSlot = make(chan uint32, poolSlots)
	for i := range uint32(poolSlots) {
		poolSlot <- i
		poolWait[i] = make(chan struct{}, 1)
	}
	poolReady = true
	if v2 {
		go func() {
			var idx [poolSlots]C.uint32_t
			var b [64]byte
			for {
				k := int(C.fedid_pool_drain(&idx[0], poolSlots))
				if k == 0 {
					if _, err := f.Read(b[:]); err != nil {
						panic(err)
					}
					continue
				}
				for _, i := range idx[:k] {
					poolWait[i] <- struct{}{}
				}
			}
		}()
		return
	}
	go func() {
		var buf [4 * poolSlots]byte
		have := 0
		for {
			n, err := f.Read(buf[have:])
			if err != nil {
				panic(err)
			}
			have += n
			k := 0
			for ; k+4 <= have; k += 4 {
				poolWait[*(*uint32)(unsafe.Pointer(&buf[k]))] <- struct{}{}
			}
			have = copy(buf[:], buf[k:have])
		}
	}()
}

func signPool(ctx *C.fedid_pctx, digest, sig []byte) (C.size_t, C.ulong) {
	poolOnce.Do(startPool)
	if !poolReady {
		var code C.ulong
		n := C.fedid_ossl_sign(ctx, (*C.uchar)(unsafe.Pointer(&digest[0])), C.size_t(len(digest)),
			(*C.uchar)(unsafe.Pointer(&sig[0])), C.size_t(len(sig)), &code)
		return n, code
	}
	i := <-poolSlot
	j := C.fedid_pool_job(C.uint32_t(i))
	j.ctx, j.dlen, j.cap = ctx, C.size_t(len(digest)), C.size_t(len(sig))
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&j.digest[0])), len(j.digest)), digest)
	C.fedid_pool_submit(C.uint32_t(i))
	<-poolWait[i]
	copy(sig, unsafe.Slice((*byte)(unsafe.Pointer(&j.sig[0])), len(sig)))
	n, code := j.n, j.code
	poolSlot <- i
	return n, code
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type batchReq struct {
	ctx         *C.fedid_pctx
	digest, sig []byte
	n           C.size_t
	code        C.ulong
	done        chan struct{}
}

const maxBatch = 8

var (
	batchOnce sync.Once
	batchReqs chan *batchReq
)

func signBatch(ctx *C.fedid_pctx, digest, sig []byte) (C.size_t, C.ulong) {
	batchOnce.Do(func() {
		batchReqs = make(chan *batchReq, 256)
		for range runtime.NumCPU() {
			go func() {
				jobs := new([maxBatch]C.fedid_job)
				var reqs [maxBatch]*batchReq
				for r := range batchReqs {
					reqs[0] = r
					k := 1
				more:
					for k < maxBatch {
						select {
						case r := <-batchReqs:
							reqs[k] = r
							k++
						default:
							break more
						}
					}
					for x, r := range reqs[:k] {
						j := &jobs[x]
						j.ctx, j.dlen, j.cap = r.ctx, C.size_t(len(r.digest)), C.size_t(len(r.sig))
						copy(unsafe.Slice((*byte)(unsafe.Pointer(&j.digest[0])), len(j.digest)), r.digest)
					}
					C.fedid_sign_batch(&jobs[0], C.int(k))
					for x, r := range reqs[:k] {
						j := &jobs[x]
						copy(r.sig, unsafe.Slice((*byte)(unsafe.Pointer(&j.sig[0])), len(r.sig)))
						r.n, r.code = j.n, j.code
						r.done <- struct{}{}
						reqs[x] = nil
					}
				}
			}()
		}
	})
	r := &batchReq{ctx: ctx, digest: digest, sig: sig, done: make(chan struct{}, 1)}
	batchReqs <- r
	<-r.done
	return r.n, r.code
}
