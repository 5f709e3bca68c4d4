package certs

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"slices"
	"testing"

	"github.com/chomhq/chom/server/internal/sshx"
)

// recordingRunner records what SSHSolver asks of the server.
type recordingRunner struct {
	runs    [][]string
	uploads []uploaded
	err     error // returned by every call
}

type uploaded struct {
	path    string
	mode    fs.FileMode
	content string
}

func (r *recordingRunner) Run(_ context.Context, _ sshx.Target, cmd sshx.Command) (sshx.Result, error) {
	r.runs = append(r.runs, cmd.Args)
	return sshx.Result{}, r.err
}

func (r *recordingRunner) Upload(_ context.Context, _ sshx.Target, f sshx.File) error {
	data, err := io.ReadAll(f.Content)
	if err != nil {
		return err
	}
	r.uploads = append(r.uploads, uploaded{path: f.Path, mode: f.Mode, content: string(data)})
	return r.err
}

func TestSSHSolver(t *testing.T) {
	const dir = "/var/lib/chom/acme-challenge"
	const token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
	const keyAuth = token + ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
	ctx := context.Background()

	runner := &recordingRunner{}
	s := SSHSolver{Runner: runner, Dir: dir}
	if err := s.Present(ctx, "example.com", token, keyAuth); err != nil {
		t.Fatalf("Present: %v", err)
	}
	wantMkdir := []string{"mkdir", "-p", "-m", "0755", "--", dir}
	if len(runner.runs) != 1 || !slices.Equal(runner.runs[0], wantMkdir) {
		t.Errorf("Present ran %q, want %q", runner.runs, wantMkdir)
	}
	want := uploaded{path: dir + "/" + token, mode: 0o644, content: keyAuth}
	if len(runner.uploads) != 1 || runner.uploads[0] != want {
		t.Errorf("Present uploaded %+v, want %+v", runner.uploads, want)
	}

	runner.runs = nil
	if err := s.CleanUp(ctx, "example.com", token); err != nil {
		t.Fatalf("CleanUp: %v", err)
	}
	wantRm := []string{"rm", "-f", "--", dir + "/" + token}
	if len(runner.runs) != 1 || !slices.Equal(runner.runs[0], wantRm) {
		t.Errorf("CleanUp ran %q, want %q", runner.runs, wantRm)
	}
}

func TestSSHSolverRefusesUnsafeInput(t *testing.T) {
	tests := []struct {
		name  string
		dir   string
		token string
	}{
		{"token climbs out", "/srv/acme", "../../etc/passwd"},
		{"token with slash", "/srv/acme", "a/b"},
		{"token with space", "/srv/acme", "a b"},
		{"token with quote", "/srv/acme", "a'b"},
		{"empty token", "/srv/acme", ""},
		{"relative dir", "srv/acme", "abc"},
		{"root dir", "/", "abc"},
		{"unclean dir", "/srv/../etc", "abc"},
		{"trailing slash", "/srv/acme/", "abc"},
		{"empty dir", "", "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runner := &recordingRunner{}
			s := SSHSolver{Runner: runner, Dir: tt.dir}
			if err := s.Present(context.Background(), "example.com", tt.token, "x"); err == nil {
				t.Error("Present accepted it")
			}
			if err := s.CleanUp(context.Background(), "example.com", tt.token); err == nil {
				t.Error("CleanUp accepted it")
			}
			if len(runner.runs)+len(runner.uploads) > 0 {
				t.Errorf("the server was contacted: runs %q, uploads %+v", runner.runs, runner.uploads)
			}
		})
	}
}

func TestSSHSolverPassesErrorsOn(t *testing.T) {
	failure := errors.New("connection refused")
	s := SSHSolver{Runner: &recordingRunner{err: failure}, Dir: "/srv/acme"}
	if err := s.Present(context.Background(), "example.com", "abc", "abc.def"); !errors.Is(err, failure) {
		t.Errorf("Present: %v, want it to wrap %v", err, failure)
	}
	if err := s.CleanUp(context.Background(), "example.com", "abc"); !errors.Is(err, failure) {
		t.Errorf("CleanUp: %v, want it to wrap %v", err, failure)
	}
}
