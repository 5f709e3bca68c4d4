package vps

import (
	"context"
	"errors"
	"net/netip"
	"regexp"
	"strings"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"golang.org/x/crypto/ssh"
)

// The server's rules, checked at plan time so that a typo fails before
// anything is created; the server has the final say.
var (
	sshUserPattern     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,31}$`)
	fingerprintPattern = regexp.MustCompile(`^SHA256:[A-Za-z0-9+/]{43}$`)
	labelKeyPattern    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$`)
	dnsLabelPattern    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
)

const (
	maxNameLength = 63
	maxLabels     = 64
	maxLabelValue = 255
	maxCapacity   = 100000
	maxPrivateKey = 16 << 10
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

// nameValidator accepts what the server stores unchanged: it trims names,
// which would make the state differ from the configuration.
var nameValidator = stringCheck{
	description: "value must be 1 to 63 characters, without control characters or surrounding spaces",
	problem:     nameProblem,
}

func nameProblem(v string) string {
	switch {
	case strings.TrimSpace(v) == "":
		return "The name must not be empty."
	case strings.TrimSpace(v) != v:
		return "The name must not start or end with spaces."
	case len([]rune(v)) > maxNameLength:
		return "The name must be at most 63 characters."
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return "The name must not contain control characters."
	}
	return ""
}

// hostValidator accepts an IP address without a zone or a DNS name.
var hostValidator = stringCheck{
	description: "value must be an IP address or a DNS name",
	problem:     hostProblem,
}

func hostProblem(v string) string {
	if ip, err := netip.ParseAddr(v); err == nil {
		if ip.Zone() != "" {
			return "The host must not carry an IPv6 zone."
		}
		return ""
	}
	name := strings.TrimSuffix(v, ".")
	labels := strings.Split(name, ".")
	ok := name != "" && len(name) <= 253
	for _, l := range labels {
		ok = ok && dnsLabelPattern.MatchString(l)
	}
	// Digits and dots only would be read as an IPv4 address.
	if ok && strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		ok = false
	}
	if !ok {
		return "The host must be an IP address or a DNS name, such as 203.0.113.10 or vps1.example.com."
	}
	return ""
}

// privateKeyValidator accepts an unencrypted private key the server can
// log in with. Its messages never quote the key.
var privateKeyValidator = stringCheck{
	description: "value must be an unencrypted private key in PEM or OpenSSH format",
	problem:     privateKeyProblem,
}

func privateKeyProblem(v string) string {
	if strings.TrimSpace(v) == "" {
		return "The private key must not be empty."
	}
	if len(v) > maxPrivateKey {
		return "The private key is too long."
	}
	if _, err := ssh.ParseRawPrivateKey([]byte(v)); err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return "The private key is protected by a passphrase; provide it without one (for example with ssh-keygen -p)."
		}
		return "The value is not an unencrypted private key in PEM or OpenSSH format."
	}
	return ""
}
