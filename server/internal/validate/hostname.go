package validate

import (
	"github.com/chomhq/chom/internal/hostname"
	"github.com/chomhq/chom/server/internal/problem"
)

// Hostname checks a fully qualified DNS name a site answers to and returns
// it normalised (see package hostname for the rule).
func Hostname(f problem.Fields, field, v string) string {
	name := hostname.Normalize(v)
	if msg := hostname.Problem(name); msg != "" {
		f.Add(field, msg)
	}
	return name
}
