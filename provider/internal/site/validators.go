package site

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// The server's rules, checked at plan time so that a typo fails before
// anything is provisioned; the server has the final say.
var (
	phpVersionPattern = regexp.MustCompile(`^[0-9]{1,2}\.[0-9]{1,2}$`)
	envNamePattern    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// scpLikePattern is git's user@host:path form of an SSH repository.
	scpLikePattern = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._/~-]+$`)
)

// managedEnvNames are the variables CHOM sets from the site's database.
var managedEnvNames = []string{"DB_CONNECTION", "DB_HOST", "DB_PORT", "DB_DATABASE", "DB_USERNAME", "DB_PASSWORD"}

// gitSchemes are the transports a repository may be cloned over.
var gitSchemes = []string{"https", "http", "ssh", "git", "file"}

const (
	maxAliases      = 100
	maxEnvVars      = 200
	maxEnvValueSize = 8 << 10
	maxGitURL       = 2048
	maxGitBranch    = 255
)

// stringCheck is a string validator made of a function that says what is
// wrong with a value, or "".
type stringCheck struct {
	description string
	problem     func(string) string
}

var _ validator.String = stringCheck{}

func (v stringCheck) Description(context.Context) string { return v.description }

func (v stringCheck) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := v.problem(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid value", msg)
	}
}

var gitRepositoryValidator = stringCheck{
	description: "value must be an https, http, ssh, git or file URL without credentials, or user@host:path",
	problem:     gitRepositoryProblem,
}

func gitRepositoryProblem(v string) string {
	switch {
	case len(v) > maxGitURL:
		return fmt.Sprintf("The repository URL is longer than %d characters.", maxGitURL)
	case strings.HasPrefix(v, "-"):
		return "The repository URL must not start with a hyphen."
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "The repository URL must not contain spaces or control characters."
	case scpLikePattern.MatchString(v):
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || !slices.Contains(gitSchemes, u.Scheme) {
		return "The repository must be an https, http, ssh, git or file URL, or user@host:path."
	}
	if u.Scheme == "file" {
		if (u.Host != "" && u.Host != "localhost") || !strings.HasPrefix(u.Path, "/") {
			return "A file URL must be file:///absolute/path."
		}
		return ""
	}
	if u.Host == "" {
		return "The repository URL must name a host."
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword || u.Scheme != "ssh" {
			return "The repository URL must not contain credentials: CHOM would store and return them in clear."
		}
	}
	return ""
}

var gitBranchValidator = stringCheck{
	description: "value must be a git branch name",
	problem:     gitBranchProblem,
}

func gitBranchProblem(v string) string {
	switch {
	case v == "":
		return "The branch must not be empty; leave git_branch out to deploy the repository's default branch."
	case len(v) > maxGitBranch:
		return fmt.Sprintf("The branch is longer than %d characters.", maxGitBranch)
	case strings.IndexFunc(v, func(r rune) bool {
		return r >= 0x80 || (!unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._/-", r))
	}) >= 0:
		return "The branch may contain only letters, digits, '.', '_', '/' and '-'."
	case strings.HasPrefix(v, "-"), strings.HasPrefix(v, "/"), strings.HasPrefix(v, "."),
		strings.HasSuffix(v, "/"), strings.HasSuffix(v, "."), strings.HasSuffix(v, ".lock"),
		strings.Contains(v, ".."), strings.Contains(v, "//"), strings.Contains(v, "/."):
		return "The branch is not a valid git branch name."
	}
	return ""
}

// environmentProblems says what the server would refuse in a Laravel
// site's variables, by variable name ("" for the whole map).
func environmentProblems(env map[string]string) map[string]string {
	problems := map[string]string{}
	if len(env) > maxEnvVars {
		problems[""] = fmt.Sprintf("at most %d variables are allowed", maxEnvVars)
		return problems
	}
	for name, value := range env {
		switch {
		case !envNamePattern.MatchString(name):
			problems[name] = "the name must be letters, digits and underscores, not starting with a digit"
		case slices.Contains(managedEnvNames, name):
			problems[name] = "CHOM sets this variable from the site's database"
		case strings.IndexFunc(value, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) >= 0:
			problems[name] = "the value must not contain a line break or another control character"
		case len(value) > maxEnvValueSize:
			problems[name] = fmt.Sprintf("the value is longer than %d bytes", maxEnvValueSize)
		}
	}
	return problems
}
