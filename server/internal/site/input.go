package site

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/provision"
	"github.com/chomhq/chom/server/internal/validate"
)

// Limits on what a site may be given.
const (
	maxAliases      = 100
	maxEnvVars      = 200
	maxEnvValueSize = 8 << 10
	maxGitURL       = 2048
	maxGitBranch    = 255
)

// CreateInput is a site to create. Empty optional fields take their
// defaults: a VPS with room, the VPS's newest PHP, the repository's
// default branch.
type CreateInput struct {
	Domain        string
	Aliases       []string
	Type          string
	VPSID         string
	PHPVersion    string
	GitRepository string
	GitBranch     string
	// Environment is a Laravel site's .env variables; it is sealed and
	// never returned.
	Environment map[string]string
	HTTPS       bool
}

// UpdateInput changes a site; nil fields stay as they are. Domain, Type and
// VPSID cannot change: given, they must equal the site's.
type UpdateInput struct {
	Domain        *string
	Type          *string
	VPSID         *string
	Aliases       *[]string
	PHPVersion    *string
	GitRepository *string
	GitBranch     *string
	// Environment replaces every variable when not nil.
	Environment *map[string]string
	HTTPS       *bool
}

// aliases checks and normalises a site's aliases: each a valid host name
// other than the domain, duplicates dropped, sorted.
func aliases(f problem.Fields, in []string, domain string) []string {
	if len(in) > maxAliases {
		f.Add("aliases", fmt.Sprintf("must list at most %d names", maxAliases))
		return nil
	}
	out := make([]string, 0, len(in))
	for i, a := range in {
		field := "aliases[" + strconv.Itoa(i) + "]"
		name := validate.Hostname(f, field, a)
		if name == domain && domain != "" {
			f.Add(field, "is the site's domain; list only other names")
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkTypeFields reports fields the site's type does not take.
func checkTypeFields(f problem.Fields, siteType, phpVersion, repo, branch string, env map[string]string) {
	if siteType == provision.SiteHTML && phpVersion != "" {
		f.Add("php_version", "html sites run no PHP")
	}
	if siteType != provision.SiteLaravel {
		if repo != "" {
			f.Add("git_repository", "only Laravel sites are deployed from git")
		}
		if branch != "" {
			f.Add("git_branch", "only Laravel sites are deployed from git")
		}
		if len(env) > 0 {
			f.Add("environment", "only Laravel sites take environment variables")
		}
		return
	}
	if repo == "" {
		f.Add("git_repository", "is required for a Laravel site")
	}
}

var phpVersionPattern = regexp.MustCompile(`^[0-9]{1,2}\.[0-9]{1,2}$`)

func checkPHPVersion(f problem.Fields, v string) {
	if v != "" && !phpVersionPattern.MatchString(v) {
		f.Add("php_version", "must be a PHP version such as 8.2")
	}
}

// pickPHPVersion checks want against the versions installed on the VPS, or
// picks the newest of them when want is empty.
func pickPHPVersion(want string, installed []string, vpsName string) (string, error) {
	if len(installed) == 0 {
		return "", problem.Invalid("php_version", fmt.Sprintf("VPS %q has no PHP-FPM installed", vpsName))
	}
	if want == "" {
		return slices.MaxFunc(installed, comparePHPVersions), nil
	}
	if !slices.Contains(installed, want) {
		return "", problem.Invalid("php_version", fmt.Sprintf("is not installed on VPS %q (it has %s)", vpsName, strings.Join(installed, ", ")))
	}
	return want, nil
}

// comparePHPVersions orders "8.2" before "8.10".
func comparePHPVersions(a, b string) int {
	am, an, _ := strings.Cut(a, ".")
	bm, bn, _ := strings.Cut(b, ".")
	return cmp.Or(cmp.Compare(atoi(am), atoi(bm)), cmp.Compare(atoi(an), atoi(bn)))
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// gitSchemes are the transports a repository may be cloned over; git's
// ext:: and fd:: would run commands.
var gitSchemes = []string{"https", "http", "ssh", "git", "file"}

// scpLike is git's user@host:path form of an SSH repository.
var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._/~-]+$`)

// checkGitRepository reports why v cannot be cloned, or "".
func checkGitRepository(v string) string {
	switch {
	case len(v) > maxGitURL:
		return fmt.Sprintf("is longer than %d characters", maxGitURL)
	case strings.HasPrefix(v, "-"):
		return "must not start with a hyphen"
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "must not contain spaces or control characters"
	case scpLike.MatchString(v):
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || !slices.Contains(gitSchemes, u.Scheme) {
		return "must be an https, http, ssh, git or file URL, or user@host:path"
	}
	if u.Scheme == "file" {
		if (u.Host != "" && u.Host != "localhost") || !strings.HasPrefix(u.Path, "/") {
			return "must be file:///absolute/path for a file URL"
		}
		return ""
	}
	if u.Host == "" {
		return "must name a host"
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword || u.Scheme != "ssh" {
			// It would be stored and returned in clear.
			return "must not contain credentials"
		}
	}
	return ""
}

// checkGitBranch reports why v is not a branch name git accepts, or "".
func checkGitBranch(v string) string {
	switch {
	case len(v) > maxGitBranch:
		return fmt.Sprintf("is longer than %d characters", maxGitBranch)
	case strings.IndexFunc(v, func(r rune) bool {
		return r >= 0x80 || (!unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._/-", r))
	}) >= 0:
		return "may contain only letters, digits, '.', '_', '/' and '-'"
	case strings.HasPrefix(v, "-"), strings.HasPrefix(v, "/"), strings.HasPrefix(v, "."),
		strings.HasSuffix(v, "/"), strings.HasSuffix(v, "."), strings.HasSuffix(v, ".lock"),
		strings.Contains(v, ".."), strings.Contains(v, "//"), strings.Contains(v, "/."):
		return "is not a valid git branch name"
	}
	return ""
}

// checkGit checks a Laravel site's repository and branch.
func checkGit(f problem.Fields, repo, branch string) {
	if repo != "" {
		if msg := checkGitRepository(repo); msg != "" {
			f.Add("git_repository", msg)
		}
	}
	if branch != "" {
		if msg := checkGitBranch(branch); msg != "" {
			f.Add("git_branch", msg)
		}
	}
}

// checkEnvironment checks a Laravel site's variables.
func checkEnvironment(f problem.Fields, env map[string]string) {
	if len(env) > maxEnvVars {
		f.Add("environment", fmt.Sprintf("must hold at most %d variables", maxEnvVars))
		return
	}
	for _, name := range slices.Sorted(maps.Keys(env)) {
		field := "environment." + name
		value := env[name]
		if err := provision.CheckEnvVar(name, value); err != nil {
			f.Add(field, err.Error())
			continue
		}
		if slices.Contains(provision.ManagedEnvNames, name) {
			f.Add(field, "is set by CHOM from the site's database")
		}
		if len(value) > maxEnvValueSize {
			f.Add(field, fmt.Sprintf("is longer than %d bytes", maxEnvValueSize))
		}
	}
}
