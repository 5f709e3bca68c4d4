package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// latencies is a sorted sample of request durations.
type latencies []time.Duration

// percentile returns the p-th percentile (0 < p ≤ 100) by the nearest-rank
// method.
func (l latencies) percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	rank := int(float64(len(l))*p/100+0.5) - 1
	return l[min(max(rank, 0), len(l)-1)]
}

func sorted(d []time.Duration) latencies {
	out := slices.Clone(d)
	slices.Sort(out)
	return out
}

// loadResult is what one load run measured.
type loadResult struct {
	Elapsed time.Duration
	OK      latencies
	// Failed counts transport errors and answers other than the expected
	// status; they are left out of the latencies.
	Failed    int
	FirstFail string
	// CPU is the time the serving process spent on the CPU during the run.
	CPU time.Duration
}

func (r loadResult) throughput() float64 { return float64(len(r.OK)) / r.Elapsed.Seconds() }

// cpuPerRequest is the serving process's CPU time per answered request.
func (r loadResult) cpuPerRequest() time.Duration {
	if len(r.OK) == 0 {
		return 0
	}
	return r.CPU / time.Duration(len(r.OK))
}

// merge combines runs against the same target, as one longer run.
func merge(runs ...loadResult) loadResult {
	var out loadResult
	var all []time.Duration
	for _, r := range runs {
		out.Elapsed += r.Elapsed
		out.CPU += r.CPU
		out.Failed += r.Failed
		if out.FirstFail == "" {
			out.FirstFail = r.FirstFail
		}
		all = append(all, r.OK...)
	}
	out.OK = sorted(all)
	return out
}

// newClient returns a keep-alive client for workers concurrent requests to
// one loopback server.
func newClient(workers int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        workers * 2,
			MaxIdleConnsPerHost: workers * 2,
			MaxConnsPerHost:     workers,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

// request builds the next request a worker sends; rng is the worker's own.
type request func(rng *rand.Rand) *http.Request

// runLoad has workers send requests back to back for d, each waiting for
// its answer before the next (a closed loop), and records every latency.
func runLoad(ctx context.Context, client *http.Client, workers int, d time.Duration, want int, next request) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type sample struct {
		ok        []time.Duration
		failed    int
		firstFail string
	}
	samples := make([]sample, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			s := &samples[w]
			s.ok = make([]time.Duration, 0, 1<<14)
			for ctx.Err() == nil {
				req := next(rng)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				elapsed := time.Since(t0)
				switch {
				case err == nil && resp.StatusCode == want:
					s.ok = append(s.ok, elapsed)
				case ctx.Err() != nil:
					// Cut short by the end of the run: not a failure.
				default:
					s.failed++
					if s.firstFail == "" {
						if err != nil {
							s.firstFail = err.Error()
						} else {
							s.firstFail = fmt.Sprintf("%s %s: status %d", req.Method, req.URL.Path, resp.StatusCode)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	out := loadResult{Elapsed: time.Since(start)}
	var all []time.Duration
	for _, s := range samples {
		all = append(all, s.ok...)
		out.Failed += s.failed
		if out.FirstFail == "" {
			out.FirstFail = s.firstFail
		}
	}
	out.OK = sorted(all)
	return out
}
