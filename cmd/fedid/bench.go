package main

import (
	"encoding/json"
	"errors"
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

// benchCmd loads a Cognito Identity endpoint: fedid, moto or AWS.
type benchCmd struct {
	Endpoint    string        `default:"http://127.0.0.1:9600" help:"Cognito Identity endpoint (fedid, moto, AWS)."`
	Region      string        `env:"AWS_REGION" default:"us-east-1" help:"SigV4 region."`
	AccessKey   string        `env:"AWS_ACCESS_KEY_ID" default:"test" help:"Access key ID."`
	Secret      string        `env:"AWS_SECRET_ACCESS_KEY" default:"test" help:"Secret access key."`
	C           int           `name:"c" short:"c" default:"16" help:"Concurrent connections."`
	Duration    time.Duration `default:"10s" help:"How long to run."`
	Requests    int           `help:"Stop after this many requests instead."`
	Mix         string        `default:"known=100" help:"Operation weights: known, new, getid, lookup (e.g. known=80,new=10,getid=5,lookup=5)."`
	Users       int           `default:"1000" help:"Distinct known developer users."`
	Pool        string        `help:"Identity pool to use (default: create one)."`
	DevProvider string        `default:"bench.login" help:"Developer provider name of the pool."`
	SkipSetup   bool          `help:"The known users exist already (fedid seed made them)."`
	VerifyEvery int           `default:"100" help:"Verify one token in N against the endpoint's JWKS (0: off; moto's tokens are not real)."`
	ServerPID   int           `name:"server-pid" help:"Pid of a local server whose CPU time per request is measured."`
	Raw         time.Duration `default:"3s" help:"Bare RS512 signing calibration before the run (0: skip)."`
	RawSign     bool          `help:"Only measure bare RS512 signatures per second."`
	Signer      string        `default:"openssl" help:"Signer of the calibration: openssl or go."`
	JSON        bool          `name:"json" help:"Print the summary as JSON."`
}

func (b *benchCmd) Run(e *runEnv) error {
	ctx, stdout, stderr := e.ctx, e.stdout, e.stderr
	cfg := bench.Config{
		Endpoint: b.Endpoint, Region: b.Region, AccessKey: b.AccessKey, Secret: b.Secret,
		Concurrency: b.C, Duration: b.Duration, Requests: b.Requests, Users: b.Users,
		Pool: b.Pool, DevProvider: b.DevProvider, VerifyEvery: b.VerifyEvery, ServerPID: b.ServerPID,
	}
	cfg.Mix = map[string]int{}
	for _, part := range strings.Split(b.Mix, ",") {
		op, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 {
			return fmt.Errorf("bench: --mix: %q is not op=weight", part)
		}
		cfg.Mix[op] = n
	}
	forceGo := b.Signer == "go"
	var raw *bench.RawResult
	if b.RawSign || b.Raw > 0 {
		d := b.Raw
		if b.RawSign && d <= 0 {
			d = 5 * time.Second
		}
		var err error
		if raw, err = bench.RawSign(d, 0, forceGo); err != nil {
			return fmt.Errorf("bench: raw sign: %w", err)
		}
	}
	if b.RawSign {
		return printResult(stdout, &bench.Result{Raw: raw}, b.JSON)
	}
	if b.SkipSetup {
		cfg.Users = -cfg.Users // setup registers none
	}
	if !b.JSON {
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
	if err := printResult(stdout, res, b.JSON); err != nil {
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
type seedCmd struct {
	StoreFlags  `embed:""`
	Identities  int    `default:"1000" help:"How many identities to create."`
	Pool        string `help:"Pool to fill (default: create one)."`
	Account     string `default:"${default_account}" help:"Account of a created pool."`
	DevProvider string `default:"bench.login" help:"Developer provider name."`
	Batch       int    `default:"10000" help:"Identities per transaction."`
}

func (s *seedCmd) Run(e *runEnv) error {
	ctx, stdout, stderr, c := e.ctx, e.stdout, e.stderr, &s.StoreFlags
	if s.Identities <= 0 || s.Batch <= 0 {
		return errors.New("seed: --identities and --batch must be positive")
	}
	mk, err := c.masterKey()
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	st, err := app.OpenStore(ctx, c.DB, sqlstore.WithMasterKey(mk))
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	if s.Pool == "" {
		p := &fedid.Pool{ID: c.Region + ":" + uuid.NewString(), Account: s.Account, Region: c.Region, Name: "seeded",
			AllowUnauthenticated: true, DeveloperProviderName: s.DevProvider, CreatedAt: now}
		if err := st.Update(ctx, func(tx fedid.Tx) error { return tx.CreatePool(ctx, p) }); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		s.Pool = p.ID
	}
	p, err := st.GetPool(ctx, s.Pool)
	if err != nil {
		return fmt.Errorf("seed: pool %s: %w", s.Pool, err)
	}
	t0 := time.Now()
	batches := (s.Identities + s.Batch - 1) / s.Batch
	for start := 0; start < s.Identities; start += s.Batch {
		end := min(start+s.Batch, s.Identities)
		ids := seedIDs(p.Region, start/s.Batch, batches, end-start)
		err := st.Update(ctx, func(tx fedid.Tx) error {
			for i := start; i < end; i++ {
				at := now.Add(time.Duration(i))
				x := &fedid.Identity{ID: ids[i-start], PoolID: p.ID, Authenticated: true, CreatedAt: at, ModifiedAt: at,
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
	fmt.Fprintf(stdout, "pool %s: %d identities (user-0 … user-%d) in %.1f s (%.0f/s)\n", p.ID, s.Identities, s.Identities-1, d.Seconds(), float64(s.Identities)/d.Seconds())
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
