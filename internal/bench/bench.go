// Package bench is fedid's load generator: it drives any Cognito Identity
// endpoint (fedid, moto, AWS) with SigV4-signed requests the way the SDKs
// send them, checks a sample of the minted tokens against the endpoint's
// JWKS so a fast wrong answer cannot pass, and reports throughput, latency
// percentiles, errors by code and, for a local server, its CPU time per
// request next to the cost of a bare RS512 signature.
package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Operation names of the mix.
const (
	OpKnown  = "known"  // token for a known developer user
	OpNew    = "new"    // token for a new developer user
	OpGetID  = "getid"  // GetId of a guest
	OpLookup = "lookup" // LookupDeveloperIdentity
)

// Config describes a run.
type Config struct {
	Endpoint    string
	Region      string
	AccessKey   string
	Secret      string
	Concurrency int
	Duration    time.Duration
	// Requests, when positive, ends the run after that many requests.
	Requests int
	// Mix weighs the operations, e.g. {"known": 90, "new": 10}.
	Mix map[string]int
	// Users is how many distinct known developer users there are.
	Users int
	// Pool is the identity pool to use; empty creates one.
	Pool        string
	DevProvider string
	// VerifyEvery checks one token in VerifyEvery against the JWKS; 0 off.
	VerifyEvery int
	// ServerPID, when set, is the local server process whose CPU time is
	// measured.
	ServerPID int
	Progress  io.Writer
}

// Latency holds percentiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// Result is the summary of a run.
type Result struct {
	Endpoint      string         `json:"endpoint"`
	Pool          string         `json:"pool"`
	Concurrency   int            `json:"concurrency"`
	Seconds       float64        `json:"seconds"`
	Requests      int64          `json:"requests"`
	Errors        int64          `json:"errors"`
	Throughput    float64        `json:"requests_per_second"`
	Latency       Latency        `json:"latency"`
	PerOperation  map[string]int `json:"requests_by_operation"`
	ErrorsByCode  map[string]int `json:"errors_by_code,omitempty"`
	TokensChecked int            `json:"tokens_verified"`
	TokensBad     int            `json:"tokens_failed_verification"`
	// ServerCPUPerRequest is the server's CPU time per request (µs).
	ServerCPUPerRequest float64 `json:"server_cpu_us_per_request,omitempty"`
	ServerCPUSeconds    float64 `json:"server_cpu_seconds,omitempty"`
	// ClientCPUPerRequest is the load tool's own CPU time per request (µs):
	// on a machine it shares with the server, CPU the server did not get.
	ClientCPUPerRequest float64 `json:"client_cpu_us_per_request,omitempty"`
	// Raw is the bare-signature calibration of the same run.
	Raw *RawResult `json:"raw_sign,omitempty"`
	// CPURatio is server CPU per request over CPU per bare signature.
	CPURatio float64 `json:"cpu_ratio_vs_raw_sign,omitempty"`
}

type client struct {
	cfg    Config
	http   *http.Client
	signer *v4.Signer
	creds  aws.Credentials
	jwks   *jwksCache
}

func newClient(cfg Config) *client {
	tr := &http.Transport{MaxIdleConns: cfg.Concurrency * 2, MaxIdleConnsPerHost: cfg.Concurrency * 2, IdleConnTimeout: time.Minute}
	return &client{cfg: cfg, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, signer: v4.NewSigner(),
		creds: aws.Credentials{AccessKeyID: cfg.AccessKey, SecretAccessKey: cfg.Secret}, jwks: &jwksCache{}}
}

// call sends one AWS JSON 1.1 request (signed unless unsigned) and
// returns the decoded body, or the error code and its message in an
// *apiError.
func (c *client) call(ctx context.Context, op string, body any, signed bool) (map[string]any, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoint+"/", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService."+op)
	if signed {
		sum := sha256.Sum256(b)
		if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "cognito-identity", c.cfg.Region, time.Now()); err != nil {
			return nil, err
		}
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	rb, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(rb, &e)
		return nil, &apiError{code: errorCode(res.StatusCode, rb), message: e.Message}
	}
	var out map[string]any
	_ = json.Unmarshal(rb, &out)
	return out, nil
}

// apiError is an endpoint's refusal, with its code and message.
type apiError struct{ code, message string }

func (e *apiError) Error() string {
	if e.message == "" {
		return e.code
	}
	return e.code + ": " + e.message
}

// errorCode is the AWS error code of an error response: its __type without
// the namespace, or HTTP and the status.
func errorCode(status int, body []byte) string {
	var out struct {
		Type string `json:"__type"`
	}
	_ = json.Unmarshal(body, &out)
	code := out.Type
	if i := strings.LastIndex(code, "#"); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = "HTTP" + strconv.Itoa(status)
	}
	return code
}

func (c *client) devToken(ctx context.Context, user string) (map[string]any, error) {
	return c.call(ctx, "GetOpenIdTokenForDeveloperIdentity", map[string]any{
		"IdentityPoolId": c.cfg.Pool, "Logins": map[string]string{c.cfg.DevProvider: user}}, true)
}

// setup creates the pool when none is given and registers the known users.
func (c *client) setup(ctx context.Context, users bool) error {
	if c.cfg.Pool == "" {
		out, err := c.call(ctx, "CreateIdentityPool", map[string]any{"IdentityPoolName": "fedid bench",
			"AllowUnauthenticatedIdentities": true, "DeveloperProviderName": c.cfg.DevProvider}, true)
		if err != nil {
			return fmt.Errorf("create pool: %w", err)
		}
		c.cfg.Pool, _ = out["IdentityPoolId"].(string)
	}
	if !users {
		return nil
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Pointer[error]
	next := atomic.Int64{}
	for range min(c.cfg.Concurrency, c.cfg.Users) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(c.cfg.Users) {
					return
				}
				if _, err := c.devToken(ctx, "user-"+strconv.FormatInt(i, 10)); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("registering known users: %d of %d failed, the first with %w", n, c.cfg.Users, *firstErr.Load())
	}
	return nil
}

// pick chooses an operation by weight.
func pick(ops []string, weights []int, total int, r *rand.Rand) string {
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return ops[i]
		}
		n -= w
	}
	return ops[len(ops)-1]
}

type worker struct {
	lat     []time.Duration
	byOp    map[string]int
	errs    map[string]int
	checked int
	bad     int
}

// Run performs a load run.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	setupUsers := cfg.Users > 0
	if cfg.Users < 0 { // the users exist already
		cfg.Users = -cfg.Users
	}
	if cfg.Users == 0 {
		cfg.Users, setupUsers = 1000, true
	}
	if cfg.DevProvider == "" {
		cfg.DevProvider = "bench.login"
	}
	if len(cfg.Mix) == 0 {
		cfg.Mix = map[string]int{OpKnown: 100}
	}
	var ops []string
	var weights []int
	total := 0
	for op, w := range cfg.Mix {
		switch op {
		case OpKnown, OpNew, OpGetID, OpLookup:
		default:
			return nil, fmt.Errorf("unknown operation %q in the mix (known, new, getid, lookup)", op)
		}
		if w > 0 {
			ops, weights, total = append(ops, op), append(weights, w), total+w
		}
	}
	if total == 0 {
		return nil, errors.New("the mix has no operation with a weight")
	}
	c := newClient(cfg)
	if err := c.setup(ctx, setupUsers); err != nil {
		return nil, err
	}
	cfg.Pool = c.cfg.Pool
	runCtx := ctx
	if cfg.Requests <= 0 {
		if cfg.Duration <= 0 {
			cfg.Duration = 10 * time.Second
		}
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	cpu0, cpuErr := processCPU(cfg.ServerPID)
	self0, selfErr := processCPU(os.Getpid())
	start := time.Now()
	var done, failed atomic.Int64
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	workers := make([]*worker, cfg.Concurrency)
	var wg sync.WaitGroup
	stopProgress := make(chan struct{})
	if cfg.Progress != nil {
		go progress(cfg.Progress, start, &done, &failed, stopProgress)
	}
	var quoted struct{ pool, provider []byte }
	quoted.pool, _ = json.Marshal(cfg.Pool)
	quoted.provider, _ = json.Marshal(cfg.DevProvider)
	for w := range workers {
		st := &worker{byOp: map[string]int{}, errs: map[string]int{}}
		workers[w] = st
		conn, err := newWire(cfg)
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.close()
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			var body []byte
			// devBody is the body of GetOpenIdTokenForDeveloperIdentity
			// for user, built without a JSON encoder (user names are
			// plain ASCII).
			devBody := func(user ...string) []byte {
				body = append(body[:0], `{"IdentityPoolId":`...)
				body = append(body, quoted.pool...)
				body = append(body, `,"Logins":{`...)
				body = append(body, quoted.provider...)
				body = append(body, `:"`...)
				for _, u := range user {
					body = append(body, u...)
				}
				return append(body, `"}}`...)
			}
			for n := 0; ; n++ {
				if runCtx.Err() != nil {
					return
				}
				if cfg.Requests > 0 && done.Add(1) > int64(cfg.Requests) {
					done.Add(-1)
					return
				}
				op := pick(ops, weights, total, r)
				t0 := time.Now()
				var status int
				var out []byte
				var err error
				switch op {
				case OpKnown:
					status, out, err = conn.call(runCtx, "GetOpenIdTokenForDeveloperIdentity",
						devBody("user-", strconv.Itoa(r.IntN(cfg.Users))), true, t0)
				case OpNew:
					status, out, err = conn.call(runCtx, "GetOpenIdTokenForDeveloperIdentity",
						devBody("new-", runID, "-", strconv.Itoa(w), "-", strconv.Itoa(n)), true, t0)
				case OpGetID:
					b, _ := json.Marshal(map[string]any{"IdentityPoolId": cfg.Pool})
					status, out, err = conn.call(runCtx, "GetId", b, false, t0)
				case OpLookup:
					b, _ := json.Marshal(map[string]any{"IdentityPoolId": cfg.Pool,
						"DeveloperUserIdentifier": "user-" + strconv.Itoa(r.IntN(cfg.Users)), "MaxResults": 10})
					status, out, err = conn.call(runCtx, "LookupDeveloperIdentity", b, true, t0)
				}
				if err != nil && (runCtx.Err() != nil || errors.Is(err, context.DeadlineExceeded)) {
					return // the run ended mid-request
				}
				st.lat = append(st.lat, time.Since(t0))
				st.byOp[op]++
				if cfg.Requests <= 0 {
					done.Add(1)
				}
				token := op == OpKnown || op == OpNew
				switch {
				case err != nil:
					st.errs["transport"]++
					failed.Add(1)
				case status != http.StatusOK:
					st.errs[errorCode(status, out)]++
					failed.Add(1)
				case token && !bytes.Contains(out, []byte(`"Token"`)):
					st.errs["NoToken"]++
					failed.Add(1)
				case token && cfg.VerifyEvery > 0 && n%cfg.VerifyEvery == 0:
					st.checked++
					var res struct{ Token string }
					_ = json.Unmarshal(out, &res)
					if err := c.jwks.verify(ctx, c.http, cfg.Endpoint, res.Token); err != nil {
						st.bad++
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopProgress)
	res := &Result{Endpoint: cfg.Endpoint, Pool: cfg.Pool, Concurrency: cfg.Concurrency, Seconds: elapsed.Seconds(),
		PerOperation: map[string]int{}, ErrorsByCode: map[string]int{}}
	var all []time.Duration
	for _, st := range workers {
		all = append(all, st.lat...)
		for k, v := range st.byOp {
			res.PerOperation[k] += v
		}
		for k, v := range st.errs {
			res.ErrorsByCode[k] += v
		}
		res.TokensChecked += st.checked
		res.TokensBad += st.bad
	}
	res.Requests = int64(len(all))
	res.Errors = failed.Load()
	res.Throughput = float64(res.Requests) / elapsed.Seconds()
	res.Latency = percentiles(all)
	if self1, err := processCPU(os.Getpid()); err == nil && selfErr == nil && res.Requests > 0 {
		res.ClientCPUPerRequest = float64((self1 - self0).Microseconds()) / float64(res.Requests)
	}
	if cfg.ServerPID > 0 && cpuErr == nil {
		if cpu1, err := processCPU(cfg.ServerPID); err == nil && res.Requests > 0 {
			res.ServerCPUSeconds = (cpu1 - cpu0).Seconds()
			res.ServerCPUPerRequest = float64((cpu1 - cpu0).Microseconds()) / float64(res.Requests)
		}
	}
	return res, nil
}

func percentiles(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(q float64) float64 {
		i := int(q * float64(len(d)-1))
		return float64(d[i].Microseconds()) / 1000
	}
	return Latency{P50: at(.50), P90: at(.90), P99: at(.99), Max: float64(d[len(d)-1].Microseconds()) / 1000}
}

func progress(w io.Writer, start time.Time, done, failed *atomic.Int64, stop chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-stop:
			fmt.Fprintln(w)
			return
		case <-t.C:
			n := done.Load()
			fmt.Fprintf(w, "\r%5.0fs  %9d requests  %8.0f req/s now  %6d errors", time.Since(start).Seconds(), n, float64(n-last), failed.Load())
			last = n
		}
	}
}

// processCPU reads a process's user+system CPU time from /proc.
func processCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after ")".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("bad stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("bad stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100
