package bench

import (
	"crypto/sha512"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedid/fedid/internal/keys"
)

// RawResult is the bare-signature calibration: RS512 signatures with
// fedid's signer on every core of this machine.
type RawResult struct {
	Backend    string  `json:"backend"`
	Workers    int     `json:"workers"`
	Seconds    float64 `json:"seconds"`
	Signatures int64   `json:"signatures"`
	PerSecond  float64 `json:"signatures_per_second"`
	// CPUPerSignature is this process's CPU time per signature (µs).
	CPUPerSignature float64 `json:"cpu_us_per_signature"`
}

// RawSign signs for d on workers goroutines (0: GOMAXPROCS).
func RawSign(d time.Duration, workers int, forceGo bool) (*RawResult, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	sign, backend, err := keys.RawSigner(forceGo)
	if err != nil {
		return nil, err
	}
	digest := sha512.Sum512([]byte("fedid raw signature calibration"))
	var n atomic.Int64
	var failed atomic.Value
	stop := time.Now().Add(d)
	cpu0, _ := processCPU(os.Getpid())
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if _, err := sign(digest[:]); err != nil {
					failed.Store(err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return nil, err
	}
	elapsed := time.Since(start)
	cpu1, _ := processCPU(os.Getpid())
	r := &RawResult{Backend: backend, Workers: workers, Seconds: elapsed.Seconds(), Signatures: n.Load(),
		PerSecond: float64(n.Load()) / elapsed.Seconds()}
	if n.Load() > 0 {
		r.CPUPerSignature = float64((cpu1 - cpu0).Microseconds()) / float64(n.Load())
	}
	return r, nil
}
