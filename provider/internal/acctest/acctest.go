// Package acctest runs acceptance tests against the real CHOM control plane,
// started for each test on a loopback port with a fresh database, and
// driven by a Terraform (or OpenTofu) CLI through the provider.
//
// The tests run only with TF_ACC=1. The CLI is taken from
// TF_ACC_TERRAFORM_PATH or the PATH; the tests never download one.
package acctest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/chomhq/chom/provider/internal/client"
	"github.com/chomhq/chom/provider/internal/provider"
)

// ProviderName is the provider's local name in test configurations.
const ProviderName = "chom"

// ProtoV6ProviderFactories serves the provider in process to the CLI.
var ProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	ProviderName: providerserver.NewProtocol6WithError(provider.New("test")()),
}

// PreCheck skips the test without TF_ACC and fails it when running it would
// make the test framework download a CLI.
func PreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv(resource.EnvTfAcc) == "" {
		t.Skipf("acceptance tests run only with %s=1", resource.EnvTfAcc)
	}
	if v := os.Getenv("TF_ACC_TERRAFORM_VERSION"); v != "" {
		t.Fatalf("TF_ACC_TERRAFORM_VERSION=%s would download a CLI; set TF_ACC_TERRAFORM_PATH to an installed terraform or tofu instead", v)
	}
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		if _, err := exec.LookPath("terraform"); err != nil {
			t.Fatal("no terraform on the PATH and TF_ACC_TERRAFORM_PATH is not set; point it at an installed terraform or tofu")
		}
	}
}

// Server is a control plane serving one test, with one registered
// organization whose owner's token the provider uses.
type Server struct {
	// URL is the control plane's base URL (http://127.0.0.1:port).
	URL string
	// Token is the organization owner's API token.
	Token string
	// Owner is the user who registered the organization.
	Owner client.User
	// Organization is the registered organization.
	Organization client.Organization
	// Client calls the API as the owner, for checks outside Terraform.
	Client *client.Client
}

// New starts a control plane for t (stopped when t ends) and registers an
// organization on it. It skips t like PreCheck.
func New(t *testing.T) *Server {
	t.Helper()
	PreCheck(t)

	url := startServer(t, map[string]string{
		"CHOM_ENV":              "test",
		"CHOM_DATA_DIR":         t.TempDir(),
		"CHOM_LOG_LEVEL":        "warn",
		"CHOM_HEALTH_INTERVAL":  "0",
		"CHOM_RATE_LIMIT":       "100000",
		"CHOM_LOGIN_RATE_LIMIT": "100000",
		"CHOM_ALLOWED_NETWORKS": AllowedNetworks,
	})

	s := &Server{URL: url}
	sess := s.Register(t, "Acceptance")
	s.Token = sess.Token.Token
	s.Owner = sess.User
	s.Organization = sess.Organization
	s.Client = s.newClient(t, s.Token)
	return s
}

func (s *Server) newClient(t *testing.T, token string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Endpoint: s.URL, Token: token, Version: "acctest", MaxRetries: -1})
	if err != nil {
		t.Fatalf("API client: %v", err)
	}
	return c
}

// Register signs up another account, with an organization of its own
// called name, through the API. Its e-mail is then a known user's.
func (s *Server) Register(t *testing.T, name string) *client.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sess, err := s.newClient(t, "").Register(ctx, client.RegisterOptions{
		Name:             name + " Owner",
		Email:            RandomEmail(strings.ToLower(name)),
		Password:         "pw-" + rand.Text(),
		OrganizationName: name,
	})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	return sess
}

// ProviderConfig returns the provider block pointing at the server.
func (s *Server) ProviderConfig() string {
	return fmt.Sprintf("provider %q {\n  endpoint = %q\n  token    = %q\n}\n", ProviderName, s.URL, s.Token)
}

// Config returns the provider block followed by body.
func (s *Server) Config(body string) string { return s.ProviderConfig() + "\n" + body }

// CheckDestroy verifies through the API that every resource of
// resourceType in the state is gone: get must fail with a 404 for its id.
// Finding no such resource fails too, as the check would prove nothing.
func (s *Server) CheckDestroy(resourceType string, get func(ctx context.Context, c *client.Client, id string) error) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		checked := 0
		for addr, rs := range st.RootModule().Resources {
			if rs.Type != resourceType {
				continue
			}
			checked++
			err := get(ctx, s.Client, rs.Primary.ID)
			switch {
			case err == nil:
				return fmt.Errorf("%s (id %s) still exists after destroy", addr, rs.Primary.ID)
			case !client.IsNotFound(err):
				return fmt.Errorf("%s (id %s): %w", addr, rs.Primary.ID, err)
			}
		}
		if checked == 0 {
			return fmt.Errorf("no %s in the state to check", resourceType)
		}
		return nil
	}
}

// RandomDomain returns a host name no other test uses, under a reserved
// top-level domain.
func RandomDomain(prefix string) string {
	return fmt.Sprintf("%s-%s.example.test", prefix, strings.ToLower(rand.Text()[:10]))
}

// RandomEmail returns an address no other test uses.
func RandomEmail(prefix string) string {
	return fmt.Sprintf("%s-%s@example.com", prefix, strings.ToLower(rand.Text()[:10]))
}

// Words returns a pattern matching the phrases in order, anything between
// them, each phrase's spaces matching any run of white space: Terraform
// wraps long diagnostics at arbitrary spaces.
func Words(phrases ...string) *regexp.Regexp {
	parts := make([]string, len(phrases))
	for i, p := range phrases {
		words := strings.Fields(p)
		for j, w := range words {
			words[j] = regexp.QuoteMeta(w)
		}
		parts[i] = strings.Join(words, `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, `.*`))
}
