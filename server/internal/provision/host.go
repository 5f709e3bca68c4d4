// Package provision changes managed servers over SSH through idempotent
// steps: each step first checks whether the server is already as wanted and
// changes it only when it is not, so any step can run again after a crash
// or a retry. The shell scripts and configuration templates the steps use
// are compiled in; values reach a script only as quoted arguments.
//
// Bootstrap is the plan that makes a fresh Debian or Ubuntu server ready
// for sites; GatherFacts and CheckHealth read a server without changing it.
package provision

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/chomhq/chom/server/internal/sshx"
)

// Runner runs one command on a server; *sshx.Executor is the real one.
type Runner interface {
	Run(ctx context.Context, t sshx.Target, cmd sshx.Command) (sshx.Result, error)
}

// Host is a server and the means to run commands on it.
type Host struct {
	Runner Runner
	Target sshx.Target
}

// Run runs cmd on the host, through sudo when the login user is not root:
// everything a step does needs root.
func (h *Host) Run(ctx context.Context, cmd sshx.Command) (sshx.Result, error) {
	if h.Target.User != "root" {
		cmd.Args = append([]string{"sudo", "-n", "--"}, cmd.Args...)
	}
	return h.Runner.Run(ctx, h.Target, cmd)
}

// RunScript runs one of the package's scripts with args as its positional
// parameters, feeding stdin (which may be nil) to it.
func (h *Host) RunScript(ctx context.Context, name string, stdin []byte, args ...string) (sshx.Result, error) {
	body, err := script(name)
	if err != nil {
		return sshx.Result{}, err
	}
	cmd := sshx.Script{Body: body, Args: args}.Command()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	res, err := h.Run(ctx, cmd)
	if err != nil {
		// The executor quotes the command line in its errors, which for a
		// script is all of its text: name the script instead.
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return res, fmt.Errorf("%s script on %s: %w", name, h.Target, err)
	}
	return res, nil
}

// ErrUnexpectedOutput means a script ran but printed something its parser
// does not understand.
var ErrUnexpectedOutput = errors.New("unexpected output")

// Test runs a check script: exit status 0 means yes, 1 means no, and
// anything else is an error.
func (h *Host) Test(ctx context.Context, name string, args ...string) (bool, error) {
	_, err := h.RunScript(ctx, name, nil, args...)
	var exit *sshx.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.Status == 1 && exit.Signal == "":
		return false, nil
	}
	return false, err
}

//go:embed scripts/*.sh templates/*.tmpl
var files embed.FS

// script returns the named script behind the shared library, as constant
// text for sshx.Script.
func script(name string) (string, error) {
	lib, err := files.ReadFile("scripts/lib.sh")
	if err != nil {
		return "", fmt.Errorf("script library: %w", err)
	}
	body, err := files.ReadFile("scripts/" + name + ".sh")
	if err != nil {
		return "", fmt.Errorf("script %s: %w", name, err)
	}
	return string(lib) + "\n" + string(body), nil
}
