package faults_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chomhq/chom/server/internal/apitest"
)

// redisProcess is a redis-server the test started on its own port.
type redisProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedis(t *testing.T, bin string, port int) *redisProcess {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	r := &redisProcess{cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(r.done) }()
	t.Cleanup(r.kill)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			return r
		}
	}
	t.Fatalf("redis-server did not listen on %s", addr)
	return nil
}

// kill ends this test's redis-server with SIGKILL, as a crash would.
func (r *redisProcess) kill() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Kill()
	<-r.done
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// sample is one request of the load: when, how long, and how it ended.
type sample struct {
	phase   string
	latency time.Duration
	status  int
	err     error
}

// TestRedisOutageKeepsTheAPIAnswering runs paced load against a control
// plane whose rate limits live in a Redis of the test's own, kills that
// Redis in the middle, and starts it again. Every request must be
// answered, none with a server error or after the client's timeout; the
// latencies of each phase are reported. After the restart, rate limiting
// is shared through Redis again: a token sent past its limit gets 429,
// and its counter is in the new Redis.
func TestRedisOutageKeepsTheAPIAnswering(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CHOM_INTEGRATION") == "1" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("redis-server is not installed")
	}
	port := freePort(t)
	r := startRedis(t, bin, port)
	const limit = 1200 // per token and minute; the load stays under it
	e := apitest.New(t,
		apitest.WithEnv("CHOM_REDIS_URL", fmt.Sprintf("redis://127.0.0.1:%d/0", port)),
		apitest.WithEnv("CHOM_RATE_LIMIT", strconv.Itoa(limit)))
	w := watch(t, e, "")
	seedVPS(t, e, w.owner.OrgID, 100, 0)

	const workers, every, timeout = 8, 100 * time.Millisecond, 5 * time.Second
	tokens := make([]string, workers)
	for i := range tokens {
		_, tokens[i] = w.newToken(t, fmt.Sprintf("load-%d", i))
	}
	client := &http.Client{Timeout: timeout}
	var (
		mu      sync.Mutex
		phase   = "before"
		samples []sample
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				mu.Lock()
				p := phase
				mu.Unlock()
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, e.URL+"/api/v1/sites?limit=20", nil)
				req.Header.Set("Authorization", "Bearer "+tokens[i])
				start := time.Now()
				resp, err := client.Do(req)
				s := sample{phase: p, err: err}
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					s.status = resp.StatusCode
					w.bodies.observe(http.MethodGet, "/api/v1/sites", resp.StatusCode, body)
				}
				s.latency = time.Since(start)
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
			}
		}()
	}
	setPhase := func(p string) {
		mu.Lock()
		phase = p
		mu.Unlock()
	}
	time.Sleep(5 * time.Second)
	setPhase("outage")
	r.kill()
	time.Sleep(5 * time.Second)
	setPhase("after")
	startRedis(t, bin, port)
	time.Sleep(4 * time.Second)
	close(stop)
	wg.Wait()

	byPhase := map[string][]time.Duration{}
	for _, s := range samples {
		switch {
		case s.err != nil:
			t.Errorf("%s: a request was not answered: %v", s.phase, s.err)
		case s.status != http.StatusOK:
			t.Errorf("%s: a request was answered %d", s.phase, s.status)
		case s.latency >= timeout:
			t.Errorf("%s: a request took %s", s.phase, s.latency)
		}
		byPhase[s.phase] = append(byPhase[s.phase], s.latency)
	}
	for _, p := range []string{"before", "outage", "after"} {
		l := byPhase[p]
		slices.Sort(l)
		if len(l) == 0 {
			t.Fatalf("no request ran %s the outage", p)
		}
		t.Logf("%-6s: %4d requests, p50 %s, p99 %s, max %s", p, len(l), percentile(l, 50), percentile(l, 99), l[len(l)-1])
	}
	before, during := percentile(byPhase["before"], 99), percentile(byPhase["outage"], 99)
	t.Logf("p99 during the outage is %.2f× the p99 before it (goal ≤ 1.5×)", float64(during)/float64(before))
	logs := e.Logs.String()
	if !strings.Contains(logs, "redis unreachable") || !strings.Contains(logs, "redis reachable again") {
		t.Errorf("the server did not log losing and regaining Redis")
	}

	// Past its limit, a fresh token is refused, and the counter that
	// refused it is in the restarted Redis.
	probeID, probe := w.newToken(t, "probe")
	refusedAfter := 0
	for n := 1; n <= 3*limit && refusedAfter == 0; n++ {
		resp := w.as(probe).do(t, http.MethodGet, "/api/v1/me", nil)
		switch resp.Status {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			refusedAfter = n
		default:
			t.Fatalf("probe request %d: %d %s", n, resp.Status, resp.Body)
		}
	}
	if refusedAfter == 0 {
		t.Fatalf("no 429 after %d requests with a limit of %d a minute", 3*limit, limit)
	}
	rc := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer func() { _ = rc.Close() }()
	if n, err := rc.Exists(context.Background(), "rate:chom:rl:tok:"+probeID).Result(); err != nil || n != 1 {
		t.Fatalf("the probe token's counter is not in the restarted Redis (exists=%d, %v)", n, err)
	}
	t.Logf("after the restart, the probe token was refused (429) at request %d of a %d/min limit, counted in Redis", refusedAfter, limit)
}
