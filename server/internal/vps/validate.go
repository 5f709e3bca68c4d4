package vps

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"

	"github.com/chomhq/chom/server/internal/problem"
	"github.com/chomhq/chom/server/internal/validate"
)

// Limits and defaults of the VPS settings.
const (
	DefaultPort     = 22
	DefaultSSHUser  = "root"
	DefaultCapacity = 50
	MaxCapacity     = 100000
	maxNameLength   = 63
	maxLabels       = 64
	maxLabelValue   = 255
	maxPrivateKey   = 16 << 10
)

var (
	sshUserPattern     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,31}$`)
	fingerprintPattern = regexp.MustCompile(`^SHA256:[A-Za-z0-9+/]{43}$`)
	labelKeyPattern    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$`)
	dnsLabelPattern    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
)

// checkName validates a VPS name.
func checkName(f problem.Fields, v string) string {
	return validate.Name(f, "name", v, maxNameLength)
}

// checkHostSyntax accepts an IP address (without zone) or a DNS name.
// Whether the address is allowed is the NetworkPolicy's call.
func checkHostSyntax(f problem.Fields, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		f.Add("host", "is required")
		return v
	}
	if ip, err := netip.ParseAddr(v); err == nil {
		if ip.Zone() != "" {
			f.Add("host", "must not carry an IPv6 zone")
		}
		return v
	}
	name := strings.TrimSuffix(v, ".")
	labels := strings.Split(name, ".")
	ok := len(name) <= 253
	for _, l := range labels {
		ok = ok && dnsLabelPattern.MatchString(l)
	}
	// A name of digits and dots only would be taken for an IPv4 address.
	if last := labels[len(labels)-1]; ok && strings.Trim(last, "0123456789") == "" {
		ok = false
	}
	if !ok {
		f.Add("host", "must be an IP address or a DNS name")
	}
	return v
}

func checkPort(f problem.Fields, v int) {
	if v < 1 || v > 65535 {
		f.Add("port", "must be from 1 to 65535")
	}
}

func checkSSHUser(f problem.Fields, v string) {
	if !sshUserPattern.MatchString(v) {
		f.Add("ssh_user", "must be a user name: letters, digits, '_', '.' and '-', at most 32, not starting with a digit")
	}
}

func checkCapacity(f problem.Fields, v int) {
	if v < 1 || v > MaxCapacity {
		f.Add("capacity", fmt.Sprintf("must be from 1 to %d", MaxCapacity))
	}
}

// checkFingerprint accepts "" (none expected) or SHA256:<43 base64
// characters>, as ssh-keygen -l prints it.
func checkFingerprint(f problem.Fields, v string) string {
	v = strings.TrimSpace(v)
	if v != "" && !fingerprintPattern.MatchString(v) {
		f.Add("expected_host_key_fingerprint", "must be a SHA256 fingerprint as ssh-keygen -l prints it, e.g. SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s")
	}
	return v
}

// checkPrivateKey parses the key without ever quoting it: the message
// must not leak a byte of it.
func checkPrivateKey(f problem.Fields, v string) {
	if strings.TrimSpace(v) == "" {
		f.Add("ssh_private_key", "is required")
		return
	}
	if len(v) > maxPrivateKey {
		f.Add("ssh_private_key", "is too long")
		return
	}
	if _, err := ssh.ParsePrivateKey([]byte(v)); err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			f.Add("ssh_private_key", "is protected by a passphrase; provide the key without one")
			return
		}
		f.Add("ssh_private_key", "must be an unencrypted private key in PEM or OpenSSH format")
	}
}

// checkLabels validates keys and values; a bad key is reported under
// "labels", a bad value under "labels.<key>".
func checkLabels(f problem.Fields, labels map[string]string) {
	if len(labels) > maxLabels {
		f.Add("labels", fmt.Sprintf("must have at most %d entries", maxLabels))
		return
	}
	for k, v := range labels {
		if !labelKeyPattern.MatchString(k) {
			shown := k
			if len(shown) > 70 {
				shown = shown[:70] + "…"
			}
			f.Add("labels", fmt.Sprintf("key %q must be 1 to 63 letters, digits, '_', '.' or '-', starting and ending with a letter or digit", shown))
			continue
		}
		switch {
		case !utf8.ValidString(v):
			f.Add("labels."+k, "must be valid UTF-8")
		case utf8.RuneCountInString(v) > maxLabelValue:
			f.Add("labels."+k, fmt.Sprintf("must be at most %d characters", maxLabelValue))
		case strings.IndexFunc(v, unicode.IsControl) >= 0:
			f.Add("labels."+k, "must not contain control characters")
		}
	}
}
