package sshx

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"", "''"},
		{"plain", "'plain'"},
		{"two words", "'two words'"},
		{"it's", `'it'\''s'`},
		{"'", `''\'''`},
		{"$(id) `id` ${HOME}", "'$(id) `id` ${HOME}'"},
		{"a\nb", "'a\nb'"},
		{`back\slash`, `'back\slash'`},
		{"日本語", "'日本語'"},
	} {
		got, err := Quote(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Quote(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestQuoteRejectsNUL(t *testing.T) {
	if _, err := Quote("a\x00b"); !errors.Is(err, ErrNULInArgument) {
		t.Errorf("want ErrNULInArgument, got %v", err)
	}
}

func TestJoin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    string
		wantErr error
	}{
		{"none", nil, "", nil},
		{"one", []string{"ls"}, "'ls'", nil},
		{"several", []string{"ls", "-la", "/var/www"}, "'ls' '-la' '/var/www'", nil},
		{"empty argument kept", []string{"echo", ""}, "'echo' ''", nil},
		{"metacharacters", []string{"echo", "a;b", "c|d", "e&f", "<>", "*?~"}, "'echo' 'a;b' 'c|d' 'e&f' '<>' '*?~'", nil},
		{"quote", []string{"echo", "it's"}, `'echo' 'it'\''s'`, nil},
		{"NUL", []string{"echo", "ok", "bad\x00"}, "", ErrNULInArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Join(tc.args...)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Errorf("Join(%q) = %q, %v; want %q, %v", tc.args, got, err, tc.want, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "bad") {
				t.Errorf("error echoes the argument: %v", err)
			}
		})
	}
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cmd     Command
		want    string
		wantErr bool
	}{
		{"args", Command{Args: []string{"systemctl", "reload", "nginx"}}, "'systemctl' 'reload' 'nginx'", false},
		{"env sorted", Command{Args: []string{"wp"}, Env: map[string]string{"B": "2", "A": "x y"}}, "'env' 'A=x y' 'B=2' 'wp'", false},
		{"dir", Command{Args: []string{"ls"}, Dir: "/var/www/it's"}, `cd '/var/www/it'\''s' && 'ls'`, false},
		{"script", Script{Body: `echo "$1"`, Args: []string{"$(x)"}}.Command(), `'sh' '-c' 'echo "$1"' 'sh' '$(x)'`, false},
		{"empty", Command{}, "", true},
		{"bad env name", Command{Args: []string{"ls"}, Env: map[string]string{"A;B": "1"}}, "", true},
		{"env name with equals", Command{Args: []string{"ls"}, Env: map[string]string{"A=B": "1"}}, "", true},
		{"program with equals after env", Command{Args: []string{"A=1"}, Env: map[string]string{"B": "1"}}, "", true},
		{"relative dir", Command{Args: []string{"ls"}, Dir: "-P"}, "", true},
		{"NUL in env", Command{Args: []string{"ls"}, Env: map[string]string{"A": "\x00"}}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cmd.line()
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("line() = %q, %v; want %q, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestScriptArgumentsStayData(t *testing.T) {
	cmd := Script{Body: `printf '%s\n' "$@"`, Args: []string{"$(echo pwned)", "a b", "'"}}.Command()
	line, err := cmd.line()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/bin/sh", "-c", line).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "$(echo pwned)\na b\n'\n"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestRedactor(t *testing.T) {
	r := newRedactor([]string{"", "pass", "password", "it's"})
	for in, want := range map[string]string{
		"no secrets here":   "no secrets here",
		"password and pass": "[REDACTED] and [REDACTED]",
		`'it'\''s' quoted`:  "'[REDACTED]' quoted",
		"it's raw":          "[REDACTED] raw",
		"passwordpasswordx": "[REDACTED][REDACTED]x",
	} {
		if got := r.redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
	if got := r.redactCut("cut at passw"); got != "cut at [REDACTED]" {
		t.Errorf("redactCut = %q", got)
	}
}

// FuzzJoin checks that a real shell splits a joined command line back into
// exactly the original arguments, and that NUL bytes are refused.
func FuzzJoin(f *testing.F) {
	for _, seed := range [][]string{
		{},
		{""},
		{"", ""},
		{"plain"},
		{"it's", "'", "''", `'\''`},
		{`"double"`, `\`, `\\`, `\'`},
		{"$(id)", "`id`", "${HOME}", "$HOME", "$((1+1))", "$@"},
		{"a\nb", "\r\n", "\t", " leading", "trailing "},
		{"nul\x00inside"},
		{"\x00"},
		{"unicode ✓ 日本語 😀", "\u202e", "\xff\xfe"},
		{";", "|", "&", "<", ">", "*", "?", "~", "#", "!", "{a,b}", "[a]"},
		{"-n", "--", "-e", "%s", "%b", `\0`, `\n`},
		{"x=1", "if", "then", "fi", "time"},
	} {
		f.Add(encodeArgs(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Every iteration starts a shell, and the fuzzer's minimisation of
		// a new input is quadratic in its length: short inputs keep it
		// moving, and quoting bugs show in short inputs anyway.
		if len(data) > maxFuzzInput {
			t.Skip()
		}
		args := decodeArgs(data)
		line, err := Join(append([]string{"printf", `%s\0`}, args...)...)
		if slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "\x00") }) {
			if !errors.Is(err, ErrNULInArgument) {
				t.Fatalf("Join accepted a NUL byte: %q, %v", line, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "/bin/sh", "-c", line).Output()
		if err != nil {
			t.Fatalf("sh -c %q: %v", line, err)
		}
		want := args
		if len(want) == 0 {
			want = []string{""} // printf uses its format once even without arguments
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if !slices.Equal(got, want) {
			t.Fatalf("sh -c %q\nsplit into %q\nwant      %q", line, got, want)
		}
	})
}

const maxFuzzInput = 96

// encodeArgs packs arguments as length-prefixed strings, so that any byte,
// NUL included, can occur inside an argument.
func encodeArgs(args []string) []byte {
	var b []byte
	for _, a := range args {
		b = append(b, byte(len(a)))
		b = append(b, a...)
	}
	return b
}

func decodeArgs(b []byte) []string {
	var args []string
	for len(b) > 0 && len(args) < 64 {
		n := min(int(b[0]), len(b)-1)
		args = append(args, string(b[1:1+n]))
		b = b[1+n:]
	}
	return args
}
