package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a server process the benchmark started: the real chom-server,
// or the baseline.
type child struct {
	name string
	cmd  *exec.Cmd
	URL  string
	log  string
	done chan struct{}
}

func freeAddr() (string, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String(), nil
}

// startServer runs `bin serve` with env (CHOM_* settings) and waits until
// /readyz answers. Its output goes to a file in dir.
func startServer(bin, dir string, env map[string]string) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	vars := map[string]string{
		"CHOM_ENV": "production", "CHOM_LISTEN_ADDR": addr, "CHOM_DATA_DIR": dir, "CHOM_HEALTH_INTERVAL": "0",
	}
	for k, v := range env {
		vars[k] = v
	}
	// Ended by stop, never by a context.
	cmd := exec.CommandContext(context.Background(), bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	sort.Strings(cmd.Env)
	c := &child{name: "chom-server", cmd: cmd, URL: "http://" + addr, log: filepath.Join(dir, "server.log")}
	out, err := os.Create(c.log)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := c.start(); err != nil {
		_ = out.Close()
		return nil, err
	}
	go func() { <-c.done; _ = out.Close() }()
	return c, c.waitReady("/readyz", 60*time.Second)
}

// startBare runs this program's bare-serve subcommand on the database and
// reads the address it prints.
func startBare(dbURL string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(context.Background(), self, "bare-serve", "-database-url", dbURL)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &child{name: "baseline", cmd: cmd}
	if err := c.start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("baseline: %w", err)
	}
	c.URL = "http://" + strings.TrimSpace(line)
	return c, nil
}

func (c *child) start() error {
	c.done = make(chan struct{})
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	return nil
}

func (c *child) waitReady(path string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return fmt.Errorf("%s exited during start-up (log: %s)", c.name, c.log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.stop()
	return fmt.Errorf("%s did not answer %s within %s (log: %s)", c.name, path, within, c.log)
}

// stop asks the process to end (SIGTERM), then kills it after a grace period.
func (c *child) stop() {
	if c == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(25 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// rss returns the process's resident set (VmRSS) in bytes.
func (c *child) rss() (int64, error) {
	return statusKB(c.cmd.Process.Pid, "VmRSS")
}

func statusKB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		return kb * 1024, err
	}
	return 0, errors.New(field + " not in /proc status")
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat's
// times: 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpu returns the CPU time (user and system) the process has used so far.
func (c *child) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after it are
	// numbers: utime and stime are the 14th and 15th fields overall.
	_, rest, ok := strings.Cut(string(b), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// measured runs load and charges it the CPU time the process spent meanwhile.
func (c *child) measured(load func() loadResult) loadResult {
	before, err := c.cpu()
	r := load()
	after, err2 := c.cpu()
	if err == nil && err2 == nil {
		r.CPU = after - before
	}
	return r
}
