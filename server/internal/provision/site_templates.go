package provision

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"unicode"
)

//go:embed templates/site/*.tmpl
var siteFiles embed.FS

var siteTemplates = template.Must(template.New("site").Funcs(template.FuncMap{
	"php":    phpSingleQuoted,
	"dotenv": dotenvValue,
}).ParseFS(siteFiles, "templates/site/*.tmpl"))

func renderSite(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := siteTemplates.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// nginxData is what the server block template sees.
type nginxData struct {
	Site
	IPv6 bool
}

// RenderNginx renders the site's server block. ipv6 adds IPv6 listeners,
// which nginx can only open on a server that has IPv6.
func RenderNginx(s Site, ipv6 bool) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return renderSite("nginx.conf.tmpl", nginxData{Site: s, IPv6: ipv6})
}

// RenderPool renders the site's PHP-FPM pool.
func RenderPool(s Site) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if !s.PHP() {
		return nil, fmt.Errorf("render pool: %s sites run no PHP", s.Type)
	}
	return renderSite("php-fpm.conf.tmpl", s)
}

// RenderPlaceholder renders the page a new html site serves until the
// user uploads their own.
func RenderPlaceholder(s Site) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return renderSite("index.html.tmpl", s)
}

// WordPressSaltNames are the keys and salts wp-config.php defines, each
// needing its own random value.
var WordPressSaltNames = []string{
	"AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
	"AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT",
}

// Var is one name and value of a configuration file.
type Var struct {
	Name  string
	Value string
}

// RenderWordPressConfig renders wp-config.php with the database settings
// and salts, one value for each of WordPressSaltNames.
func RenderWordPressConfig(db Database, salts map[string]string) ([]byte, error) {
	if err := db.Validate(); err != nil {
		return nil, err
	}
	vars := make([]Var, 0, len(WordPressSaltNames))
	for _, name := range WordPressSaltNames {
		v := salts[name]
		if len(v) < 32 {
			return nil, fmt.Errorf("render wp-config.php: salt %s is missing or shorter than 32 characters", name)
		}
		vars = append(vars, Var{Name: name, Value: v})
	}
	return renderSite("wp-config.php.tmpl", struct {
		DB    Database
		Salts []Var
	}{db, vars})
}

// envNamePattern is a variable name dotenv parsers and shells agree on.
var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ManagedEnvNames are the .env variables CHOM sets for a Laravel site; the
// user's environment cannot override them.
var ManagedEnvNames = []string{"DB_CONNECTION", "DB_HOST", "DB_PORT", "DB_DATABASE", "DB_USERNAME", "DB_PASSWORD"}

// RenderEnv renders a Laravel application's .env: the user's variables in
// the order given, then the database settings. An APP_KEY is expected
// among the variables.
func RenderEnv(vars []Var, db Database) ([]byte, error) {
	if err := db.Validate(); err != nil {
		return nil, err
	}
	all := make([]Var, 0, len(vars)+len(ManagedEnvNames))
	for _, v := range vars {
		if err := CheckEnvVar(v.Name, v.Value); err != nil {
			return nil, fmt.Errorf("render .env: %w", err)
		}
		for _, m := range ManagedEnvNames {
			if v.Name == m {
				return nil, fmt.Errorf("render .env: %s is set by CHOM", v.Name)
			}
		}
		all = append(all, v)
	}
	all = append(all,
		Var{"DB_CONNECTION", "mysql"},
		// localhost: the MariaDB socket, where the user exists.
		Var{"DB_HOST", "localhost"},
		Var{"DB_PORT", "3306"},
		Var{"DB_DATABASE", db.Name},
		Var{"DB_USERNAME", db.User},
		Var{"DB_PASSWORD", db.Password},
	)
	return renderSite("env.tmpl", struct{ Vars []Var }{all})
}

// CheckEnvVar reports why name=value cannot be a line of a .env file.
func CheckEnvVar(name, value string) error {
	if !envNamePattern.MatchString(name) {
		return fmt.Errorf("variable name %q must be letters, digits and underscores, not starting with a digit", name)
	}
	if strings.IndexFunc(value, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) >= 0 {
		return fmt.Errorf("the value of %s contains a line break or another control character", name)
	}
	return nil
}

// phpSingleQuoted escapes s for a PHP single-quoted string, in which only
// \\ and \' are special.
func phpSingleQuoted(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

// dotenvValue quotes a value for phpdotenv (Laravel's .env reader): single
// quotes keep it literal; a value that holds a single quote goes in double
// quotes, where backslash, double quote and dollar are escaped so nothing
// is expanded.
func dotenvValue(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n\x00") {
		return "", errors.New("dotenv: value contains a line break")
	}
	if !strings.Contains(s, "'") {
		return "'" + s + "'", nil
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`).Replace(s) + `"`, nil
}
