// Package hostname holds the one rule for the DNS names sites answer to,
// shared by the control plane's validation and the provider's plan-time
// checks so the two cannot drift apart.
package hostname

import "strings"

// Normalize returns the form names are stored and compared in: trimmed,
// lower-cased, without the trailing dot of the root.
func Normalize(raw string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(raw)), ".")
}

// Problem says why a normalised name is refused, or "" when it is valid.
// Only letters, digits and hyphens pass, in labels of 1 to 63 characters,
// so a valid name can never carry shell, nginx or path syntax. IP
// addresses, single labels (localhost) and wildcards are refused; an
// internationalised name is given in its ASCII (xn--) form.
func Problem(name string) string {
	switch {
	case name == "":
		return "is required"
	case len(name) > 253:
		return "is longer than 253 characters"
	case strings.HasPrefix(name, "*"):
		return "must not be a wildcard: list each name"
	}
	for _, r := range name {
		switch {
		case r > 0x7f:
			return "must be ASCII: give an internationalised name in its xn-- form"
		case (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '.':
			return "may contain only letters, digits, hyphens and dots"
		}
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return "must not have an empty label (two dots in a row)"
		case len(l) > 63:
			return "has a label longer than 63 characters"
		case l[0] == '-' || l[len(l)-1] == '-':
			return "must not have a label starting or ending with a hyphen"
		}
	}
	if len(labels) < 2 {
		return "must be a fully qualified name such as example.com"
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "must be a DNS name, not an IP address"
	}
	return ""
}
