// Package ratelimit limits request rates: with Redis (redis_rate, shared by
// every replica) when configured, in process otherwise. When Redis cannot be
// reached the limiter falls back to the in-process one and returns to Redis
// by itself once it answers again.
package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Limit is a number of requests per period.
type Limit struct {
	Rate   int
	Period time.Duration
}

// PerMinute returns a limit of n requests a minute.
func PerMinute(n int) Limit { return Limit{Rate: n, Period: time.Minute} }

// Result is the outcome of one check.
type Result struct {
	Allowed    bool
	Limit      int
	Remaining  int
	RetryAfter time.Duration
	ResetAfter time.Duration
}

// Memory is an in-process limiter: a token bucket per key.
type Memory struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewMemory returns an in-process limiter.
func NewMemory() *Memory { return &Memory{buckets: map[string]*bucket{}, now: time.Now} }

// Allow takes one request from key's bucket.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Result, error) {
	now := m.now()
	every := l.Period / time.Duration(l.Rate)
	m.mu.Lock()
	b, ok := m.buckets[key]
	if !ok || b.lim.Burst() != l.Rate {
		b = &bucket{lim: rate.NewLimiter(rate.Every(every), l.Rate)}
		m.buckets[key] = b
	}
	b.seen = now
	if len(m.buckets) > 50_000 {
		m.evict(now, l.Period)
	}
	r := b.lim.ReserveN(now, 1)
	res := Result{Limit: l.Rate}
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		res.RetryAfter = delay
	} else {
		res.Allowed = true
	}
	tokens := b.lim.TokensAt(now)
	m.mu.Unlock()
	res.Remaining = max(int(math.Floor(tokens)), 0)
	res.ResetAfter = time.Duration((float64(l.Rate) - tokens) * float64(every))
	return res, nil
}

// evict drops buckets idle for longer than a period: they are full again.
func (m *Memory) evict(now time.Time, period time.Duration) {
	for k, b := range m.buckets {
		if now.Sub(b.seen) > period {
			delete(m.buckets, k)
		}
	}
}

// Redis limits through redis_rate, falling back to a Memory limiter while
// Redis is unreachable.
type Redis struct {
	limiter  *redis_rate.Limiter
	fallback *Memory
	log      *slog.Logger
	errors   prometheus.Counter
	// downUntil is a unix-nano time before which Redis is not tried again.
	downUntil atomic.Int64
	retryGap  time.Duration
}

// NewRedisClient returns a client tuned to fail fast: no retries, short
// timeouts, so an outage costs a request milliseconds, not seconds. The
// client library's own messages (failed dials while Redis is down) go to
// log at debug level: the limiter already reports an outage once, at warn.
// go-redis has one logger per process, so this sets it for every client.
func NewRedisClient(url string, log *slog.Logger) (*redis.Client, error) {
	redis.SetLogger(redisLogger{log})
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opt.MaxRetries = -1
	// One dial per attempt: the client's default of five, 100 ms apart,
	// would hold requests for 400 ms each time Redis is tried while down.
	opt.DialerRetries = 1
	opt.DialTimeout = 200 * time.Millisecond
	opt.ReadTimeout = 100 * time.Millisecond
	opt.WriteTimeout = 100 * time.Millisecond
	opt.PoolTimeout = 100 * time.Millisecond
	return redis.NewClient(opt), nil
}

// NewRedis returns a Redis-backed limiter.
func NewRedis(client redis.UniversalClient, reg prometheus.Registerer, log *slog.Logger) *Redis {
	r := &Redis{
		limiter:  redis_rate.NewLimiter(client),
		fallback: NewMemory(),
		log:      log,
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chom_ratelimit_redis_errors_total",
			Help: "Rate-limit checks that could not reach Redis and used the in-process limiter.",
		}),
		retryGap: 2 * time.Second,
	}
	reg.MustRegister(r.errors)
	return r
}

// Allow checks key against l in Redis, or in process while Redis is down.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	if time.Now().UnixNano() < r.downUntil.Load() {
		return r.fallback.Allow(ctx, key, l)
	}
	res, err := r.limiter.Allow(ctx, "chom:rl:"+key, redis_rate.Limit{Rate: l.Rate, Burst: l.Rate, Period: l.Period})
	if err != nil {
		r.errors.Inc()
		if r.downUntil.Swap(time.Now().Add(r.retryGap).UnixNano()) == 0 {
			r.log.WarnContext(ctx, "rate limiter: redis unreachable, limiting in process", slog.Any("error", err))
		}
		return r.fallback.Allow(ctx, key, l)
	}
	if r.downUntil.Swap(0) != 0 {
		r.log.InfoContext(ctx, "rate limiter: redis reachable again")
	}
	out := Result{Allowed: res.Allowed > 0, Limit: l.Rate, Remaining: res.Remaining, ResetAfter: res.ResetAfter}
	if res.RetryAfter > 0 {
		out.RetryAfter = res.RetryAfter
	}
	return out, nil
}

// redisLogger hands go-redis's messages to slog.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...), slog.String("component", "redis"))
}
