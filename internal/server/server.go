// Package server assembles fedid's http.Handler: the AWS JSON 1.1 API on
// POST /, CORS, SigV4 for the signed operations, the OIDC documents, health
// and metrics.
package server

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/awsjson"
	"github.com/fedid/fedid/internal/awsquery"
	"github.com/fedid/fedid/internal/identity"
)

// Verifier authenticates a signed request (internal/sigv4).
type Verifier interface {
	Verify(ctx context.Context, r *http.Request, body []byte) (fedid.Caller, error)
}

// Config is what the server is assembled from.
type Config struct {
	Service  *identity.Service
	Verifier Verifier
	// OIDC serves the discovery document and the JWKS.
	OIDC http.Handler
	// Query, when set, answers AWS query-protocol requests (STS
	// GetCallerIdentity, IAM's OIDC provider calls) on the same POST /.
	Query http.Handler
	// Sessions, when set, serves POST /fedid/describe-credentials: who is
	// behind temporary credentials fedid issued.
	Sessions SessionReader
	// Throttle, when set, limits request rates per account and operation.
	Throttle *Throttle
	// Health reports whether the server can serve (the store answers).
	Health func(ctx context.Context) error
	// Clock defaults to the system clock.
	Clock fedid.Clock
	// Dev is development mode: Fedid.ListRecentRequests then also shows
	// the unsigned requests, which belong to no account.
	Dev bool
	// Reset, when set (development mode only), serves POST /fedid/reset;
	// without it that path does not exist (404).
	Reset ResetFunc
	// HealthNote, when set, is a warning /healthz adds to its answer
	// (development mode).
	HealthNote string
	// Admin, when set, serves fedid's own signed operations
	// (X-Amz-Target Fedid.*): signing keys and access keys.
	Admin Admin
	// Console, when set, serves the admin console under /console.
	Console  http.Handler
	Logger   *slog.Logger
	Registry *prometheus.Registry
}

// Server is fedid's HTTP handler.
type Server struct {
	cfg   Config
	ops   map[string]operation
	admin map[string]operation
	// recent are the last requests, for Fedid.ListRecentRequests.
	recent   recent
	mux      *http.ServeMux
	requests *prometheus.CounterVec
	// throttled counts requests refused by the rate limits.
	throttled prometheus.Counter
	latency   *prometheus.HistogramVec
	// okMetrics are the children of successful calls, per operation.
	okMetrics map[string]opMetrics
}

type opMetrics struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// New assembles the handler.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Clock == nil {
		cfg.Clock = fedid.SystemClock{}
	}
	s := &Server{cfg: cfg, ops: operations(cfg.Service), admin: adminOperations(cfg.Admin)}
	if s.admin != nil {
		s.admin[AdminTargetPrefix+"ListRecentRequests"] = operation{signed: true, run: s.listRecent}
		if cfg.Service != nil {
			s.admin[AdminTargetPrefix+"ExplainRole"] = operation{signed: true, run: withCaller(explainRole(cfg.Service))}
			s.admin[AdminTargetPrefix+"FindLogin"] = operation{signed: true, run: withCaller(cfg.Service.FindLogin)}
		}
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fedid_requests_total",
		Help: "API requests by operation and outcome (OK or the exception name).",
	}, []string{"operation", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "fedid_request_duration_seconds",
		Help:    "API request latency by operation.",
		Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"operation"})
	s.throttled = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fedid_throttled_requests_total",
		Help: "API requests refused with TooManyRequestsException by --throttle.",
	})
	cfg.Registry.MustRegister(s.requests, s.latency, s.throttled)
	s.okMetrics = make(map[string]opMetrics, len(OperationNames))
	for _, op := range OperationNames {
		s.okMetrics[op] = opMetrics{s.requests.WithLabelValues(op, "OK"), s.latency.WithLabelValues(op)}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/", s.api)
	if cfg.OIDC != nil {
		mux.Handle("/.well-known/", cfg.OIDC)
	}
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc("/fedid/describe-credentials", s.describeCredentials)
	if cfg.Reset != nil {
		mux.HandleFunc("/fedid/reset", s.reset)
	}
	if cfg.Console != nil {
		mux.Handle("/console", cfg.Console)
		mux.Handle("/console/", cfg.Console)
	}
	mux.Handle("/metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	s.mux = mux
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header(), r)
	s.mux.ServeHTTP(w, r)
}

// corsExposed are the response headers browsers may read (spec 1.3).
const corsExposed = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"

// Header values every API response carries (shared: net/http only reads
// them).
var (
	allowOrigin   = []string{"*"}
	exposeHeaders = []string{corsExposed}
)

// requestID returns a random version 4 UUID, as AWS request IDs are. It
// needs to be unique, not secret: math/rand's per-thread generator is
// enough and costs no system call.
func requestID() string {
	var u [16]byte
	binary.LittleEndian.PutUint64(u[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rand.Uint64())
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	reqID := requestID()
	h["x-amzn-RequestId"] = []string{reqID}
	h["Access-Control-Allow-Origin"] = allowOrigin
	h["Access-Control-Expose-Headers"] = exposeHeaders
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodOptions:
		s.preflight(w, r)
		return
	case http.MethodPost:
		if s.cfg.Query != nil && awsquery.IsQuery(r) {
			s.cfg.Query.ServeHTTP(w, r)
			return
		}
	default:
		h.Set("Allow", "POST, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	start := time.Now()
	name, account, out, err := s.call(r)
	if err != nil {
		ex := awsjson.WriteError(w, err)
		s.record(name, ex.Type, start)
		s.logError(r.Context(), reqID, name, ex, err)
		s.logRequest(r, reqID, name, account, ex.Status, ex.Type, start)
		return
	}
	if werr := awsjson.WriteJSON(w, out); werr != nil {
		s.cfg.Logger.Warn("write response", "request_id", reqID, "operation", name, "err", werr)
	}
	s.record(name, "OK", start)
	s.logRequest(r, reqID, name, account, http.StatusOK, "", start)
}

// logRequest writes the one line at info level every API request gets:
// what was asked, by which account, what came of it and how long it took.
// It names no secret, token or login value: only the operation, the
// caller's account (signed requests), the status, the AWS error code, the
// request ID and the peer's address.
func (s *Server) logRequest(r *http.Request, reqID, op, account string, status int, code string, start time.Time) {
	if op == "" {
		op = "unknown"
	}
	latencyMs := float64(time.Since(start).Microseconds()) / 1000
	if s.admin != nil {
		s.recent.add(RecentRequest{Time: start.UTC(), Operation: op, Account: account, Status: status, ErrorCode: code,
			LatencyMs: latencyMs, RequestId: reqID})
	}
	if !s.cfg.Logger.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	s.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("operation", op), slog.Int("status", status), slog.String("error_code", code),
		slog.Float64("latency_ms", latencyMs),
		slog.String("account", account), slog.String("request_id", reqID), slog.String("remote", r.RemoteAddr))
}

// call decodes, authenticates and runs one API request, and returns the
// operation's name and the signed caller's account with its outcome.
func (s *Server) call(r *http.Request) (string, string, any, error) {
	name, err := s.operationName(r)
	if err != nil {
		return "", "", nil, err
	}
	op, ok := s.ops[name]
	if !ok {
		op, ok = s.admin[name]
	}
	if !ok {
		return "", "", nil, awsjson.UnknownOperation(name)
	}
	if err := awsjson.CheckContentType(r); err != nil {
		return name, "", nil, err
	}
	body, err := awsjson.ReadBody(r)
	if err != nil {
		return name, "", nil, err
	}
	// The work is not cancelled when the peer goes away: a client that
	// half-closes after sending (SHUT_WR) still gets its answer, and one that
	// leaves costs a finished request rather than a half-done one and a 500.
	// opTimeout bounds it instead.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), opTimeout)
	defer cancel()
	var caller fedid.Caller
	if op.signed {
		if caller, err = s.cfg.Verifier.Verify(ctx, r, body); err != nil {
			return name, "", nil, err
		}
		// fedid does not model IAM: an account's access keys may do
		// everything in it, the role sessions it issued to identities
		// nothing on this API (as roles for identities are meant to be).
		if caller.Session {
			return name, caller.Account, nil, fedid.Errorf(fedid.KindAccessDenied,
				"User: %s is not authorized to perform: cognito-identity:%s", caller.ARN, name)
		}
	}
	if s.cfg.Throttle != nil {
		if err := s.cfg.Throttle.Allow(caller.Account, name); err != nil {
			s.throttled.Inc()
			return name, caller.Account, nil, err
		}
	}
	if op.run == nil {
		return name, caller.Account, nil, fedid.Errorf(fedid.KindNotImplemented,
			"%s is not implemented by this version of fedid yet.", name)
	}
	out, err := op.run(ctx, caller, body)
	return name, caller.Account, out, err
}

func (s *Server) now() time.Time { return s.cfg.Clock.Now() }

// opTimeout bounds one operation's work, the server's write timeout.
const opTimeout = 30 * time.Second

func (s *Server) record(op, code string, start time.Time) {
	if op == "" {
		op = "unknown"
	}
	if m, ok := s.okMetrics[op]; ok && code == "OK" {
		// The labelled children of successful calls are looked up once.
		m.requests.Inc()
		m.latency.Observe(time.Since(start).Seconds())
		return
	}
	s.requests.WithLabelValues(op, code).Inc()
	s.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// logError logs a failed request. Internal causes are logged in full (they
// never carry secrets: store and signer errors name no key material);
// client errors at debug level.
func (s *Server) logError(ctx context.Context, reqID, op string, ex awsjson.Exception, err error) {
	if ex.Status >= 500 && ex.Status != http.StatusNotImplemented {
		s.cfg.Logger.ErrorContext(ctx, "request failed", "request_id", reqID, "operation", op, "error_type", ex.Type, "err", err)
		return
	}
	s.cfg.Logger.DebugContext(ctx, "request refused", "request_id", reqID, "operation", op, "error_type", ex.Type, "err", err)
}

// preflight answers a CORS preflight (spec 1.3).
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", strconv.Itoa(int((24 * time.Hour).Seconds())))
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Health(ctx); err != nil {
			s.cfg.Logger.Warn("health check failed", "err", err)
			reason := err.Error()
			if ctx.Err() != nil {
				reason = "no answer within 2s: " + reason
			}
			http.Error(w, "unhealthy: "+reason, http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.cfg.HealthNote != "" {
		w.Header().Set("Warning", `199 fedid "`+s.cfg.HealthNote+`"`)
		_, _ = w.Write([]byte("ok\n" + s.cfg.HealthNote + "\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
