//go:build cgo && (linux || darwin || freebsd)

package keys

/*
// The signing call only reads and writes the buffers it is given and never
// calls back into Go: its arguments can stay on the stack.
#cgo linux LDFLAGS: -ldl
#cgo noescape fedid_ossl_sign
#cgo nocallback fedid_ossl_sign
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

*/
import "C"

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"runtime"
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
	n = C.fedid_ossl_sign(ctx, (*C.uchar)(unsafe.Pointer(&digest[0])), C.size_t(len(digest)),
		(*C.uchar)(unsafe.Pointer(&sig[0])), C.size_t(len(sig)), &code)
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
