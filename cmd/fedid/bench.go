package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/app"
	"github.com/fedid/fedid/internal/bench"
	"github.com/fedid/fedid/internal/store/sqlstore"
)

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fedid bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg bench.Config
	fs.StringVar(&cfg.Endpoint, "endpoint", "http://127.0.0.1:9600", "Cognito Identity endpoint (fedid, moto, AWS)")
	fs.StringVar(&cfg.Region, "region", env("AWS_REGION", "us-east-1"), "SigV4 region")
	fs.StringVar(&cfg.AccessKey, "access-key", env("AWS_ACCESS_KEY_ID", "test"), "access key ID (env AWS_ACCESS_KEY_ID)")
	fs.StringVar(&cfg.Secret, "secret", env("AWS_SECRET_ACCESS_KEY", "test"), "secret access key (env AWS_SECRET_ACCESS_KEY)")
	fs.IntVar(&cfg.Concurrency, "c", 16, "concurrent connections")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to run")
	fs.IntVar(&cfg.Requests, "requests", 0, "stop after this many requests instead")
	mix := fs.String("mix", "known=100", "operation weights: known, new, getid, lookup (e.g. known=80,new=10,getid=5,lookup=5)")
	fs.IntVar(&cfg.Users, "users", 1000, "distinct known developer users")
	fs.StringVar(&cfg.Pool, "pool", "", "identity pool to use (default: create one)")
	fs.StringVar(&cfg.DevProvider, "dev-provider", "bench.login", "developer provider name of the pool")
	skipSetup := fs.Bool("skip-setup", false, "the known users exist already (fedid seed made them)")
	fs.IntVar(&cfg.VerifyEvery, "verify-every", 100, "verify one token in N against the endpoint's JWKS (0: off; moto's tokens are not real)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "pid of a local server whose CPU time per request is measured")
	rawSeconds := fs.Duration("raw", 3*time.Second, "bare RS512 signing calibration before the run (0: skip)")
	rawOnly := fs.Bool("raw-sign", false, "only measure bare RS512 signatures per second")
	signer := fs.String("signer", "openssl", "signer of the calibration: openssl or go")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.Mix = map[string]int{}
	for _, part := range strings.Split(*mix, ",") {
		op, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 {
			return fmt.Errorf("bench: --mix: %q is not op=weight", part)
		}
		cfg.Mix[op] = n
	}
	forceGo := *signer == "go"
	var raw *bench.RawResult
	if *rawOnly || *rawSeconds > 0 {
		d := *rawSeconds
		if *rawOnly && d <= 0 {
			d = 5 * time.Second
		}
		var err error
		if raw, err = bench.RawSign(d, 0, forceGo); err != nil {
			return fmt.Errorf("bench: raw sign: %w", err)
		}
	}
	if *rawOnly {
		return printResult(stdout, &bench.Result{Raw: raw}, *asJSON)
	}
	if *skipSetup {
		cfg.Users = -cfg.Users // setup registers none
	}
	if !*asJSON {
		cfg.Progress = stderr
	}
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	res.Raw = raw
	if raw != nil && res.ServerCPUPerRequest > 0 && raw.CPUPerSignature > 0 {
		res.CPURatio = res.ServerCPUPerRequest / raw.CPUPerSignature
	}
	if err := printResult(stdout, res, *asJSON); err != nil {
		return err
	}
	if res.Requests > 0 && res.Errors == res.Requests {
		return fmt.Errorf("bench: every request failed%s", counts(res.ErrorsByCode, " (", ")"))
	}
	return nil
}

func printResult(w io.Writer, r *bench.Result, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if r.Endpoint != "" {
		fmt.Fprintf(w, "endpoint  %s  pool %s  concurrency %d  %.1f s\n", r.Endpoint, r.Pool, r.Concurrency, r.Seconds)
		fmt.Fprintf(w, "requests  %d (%.0f/s)  errors %d%s\n", r.Requests, r.Throughput, r.Errors, counts(r.ErrorsByCode, " (", ")"))
		fmt.Fprintf(w, "latency   p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max)
		fmt.Fprintf(w, "by op     %s\n", counts(r.PerOperation, "", ""))
		fmt.Fprintf(w, "tokens    %d verified against the JWKS, %d failed\n", r.TokensChecked, r.TokensBad)
		if r.ServerCPUPerRequest > 0 {
			fmt.Fprintf(w, "server    %.0f µs CPU per request (%.1f s CPU in all)\n", r.ServerCPUPerRequest, r.ServerCPUSeconds)
		}
		if r.ClientCPUPerRequest > 0 {
			fmt.Fprintf(w, "client    %.0f µs CPU per request (this load tool)\n", r.ClientCPUPerRequest)
		}
	}
	if r.Raw != nil {
		fmt.Fprintf(w, "raw sign  %s: %.0f signatures/s on %d workers, %.0f µs CPU per signature\n",
			r.Raw.Backend, r.Raw.PerSecond, r.Raw.Workers, r.Raw.CPUPerSignature)
	}
	if r.CPURatio > 0 {
		fmt.Fprintf(w, "ratio     server CPU per request / CPU per bare signature = %.2f\n", r.CPURatio)
	}
	return nil
}

// seedCmd creates identities directly in the database, in large
// transactions: N developer users user-0 … user-N-1 of one pool.
func seedCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fedid seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	n := fs.Int("identities", 1000, "how many identities to create")
	pool := fs.String("pool", "", "pool to fill (default: create one)")
	account := fs.String("account", fedid.DefaultAccountID, "account of a created pool")
	dev := fs.String("dev-provider", "bench.login", "developer provider name")
	batch := fs.Int("batch", 10000, "identities per transaction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n <= 0 || *batch <= 0 {
		return errors.New("seed: --identities and --batch must be positive")
	}
	mk, err := c.masterKey()
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	st, err := app.OpenStore(ctx, c.db, sqlstore.WithMasterKey(mk))
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	if *pool == "" {
		p := &fedid.Pool{ID: c.region + ":" + uuid.NewString(), Account: *account, Region: c.region, Name: "seeded",
			AllowUnauthenticated: true, DeveloperProviderName: *dev, CreatedAt: now}
		if err := st.Update(ctx, func(tx fedid.Tx) error { return tx.CreatePool(ctx, p) }); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		*pool = p.ID
	}
	p, err := st.GetPool(ctx, *pool)
	if err != nil {
		return fmt.Errorf("seed: pool %s: %w", *pool, err)
	}
	t0 := time.Now()
	for start := 0; start < *n; start += *batch {
		end := min(start+*batch, *n)
		err := st.Update(ctx, func(tx fedid.Tx) error {
			for i := start; i < end; i++ {
				at := now.Add(time.Duration(i))
				x := &fedid.Identity{ID: p.Region + ":" + uuid.NewString(), PoolID: p.ID, Authenticated: true, CreatedAt: at, ModifiedAt: at,
					Logins: []fedid.Login{{Provider: p.DeveloperProviderName, Key: "user-" + strconv.Itoa(i), Developer: true, LinkedAt: at}}}
				if err := tx.CreateIdentity(ctx, x); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed: identities %d-%d: %w", start, end, err)
		}
		fmt.Fprintf(stderr, "\r%d identities", end)
	}
	d := time.Since(t0)
	fmt.Fprintf(stderr, "\n")
	fmt.Fprintf(stdout, "pool %s: %d identities (user-0 … user-%d) in %.1f s (%.0f/s)\n", p.ID, *n, *n-1, d.Seconds(), float64(*n)/d.Seconds())
	return nil
}

// counts writes a count map as "a 3, b 1", keys sorted, between open and
// close; nothing for an empty map.
func counts(m map[string]int, open, close string) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(open)
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	b.WriteString(close)
	return b.String()
}
