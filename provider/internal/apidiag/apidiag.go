// Package apidiag turns errors of the CHOM API into Terraform diagnostics:
// a rejected field becomes an error on the attribute it came from, so
// Terraform points at the line of configuration to fix.
package apidiag

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/chomhq/chom/provider/internal/client"
)

// Fields maps a request field named in the API's validation errors to the
// attribute that supplied it. The API names an element of a list or map
// field as "aliases[2]" or "labels.env"; an element without an entry of
// its own is reported on its field's attribute, its name in the message.
type Fields map[string]path.Path

// lookup returns the attribute of the API field k, and the part of k that
// names an element within it ("" for the whole field).
func (f Fields) lookup(k string) (path.Path, string, bool) {
	if p, ok := f[k]; ok {
		return p, "", true
	}
	if i := strings.IndexAny(k, ".["); i > 0 {
		if p, ok := f[k[:i]]; ok {
			return p, k, true
		}
	}
	return path.Empty(), "", false
}

// logLines is how much of a failed operation's log a diagnostic shows.
const logLines = 20

// Append adds err to diags under summary. Each invalid field the API
// reported and fields maps becomes an attribute error; everything else
// becomes one general error carrying the status, code and request id.
func Append(diags *diag.Diagnostics, summary string, err error, fields Fields) {
	var opErr *client.OperationError
	if errors.As(err, &opErr) {
		diags.AddError(summary, operationDetail(opErr.Operation))
		return
	}
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		diags.AddError(summary, err.Error())
		return
	}

	keys := make([]string, 0, len(apiErr.Fields))
	for k := range apiErr.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var unmapped []string
	for _, k := range keys {
		p, element, ok := fields.lookup(k)
		if !ok {
			unmapped = append(unmapped, fmt.Sprintf("  %s: %s", k, apiErr.Fields[k]))
			continue
		}
		if element != "" {
			element += " "
		}
		diags.AddAttributeError(p, summary, fmt.Sprintf("The CHOM API rejected this value: %s%s.%s", element, apiErr.Fields[k], requestIDLine(apiErr)))
	}
	if len(keys) > 0 && len(unmapped) == 0 {
		return
	}

	var b strings.Builder
	fmt.Fprintf(&b, "The CHOM API answered %s", statusLine(apiErr))
	if apiErr.Message != "" {
		b.WriteString(": " + apiErr.Message)
	}
	b.WriteString(".")
	if len(unmapped) > 0 {
		b.WriteString("\n\nInvalid fields:\n" + strings.Join(unmapped, "\n"))
	}
	b.WriteString(requestIDLine(apiErr))
	diags.AddError(summary, b.String())
}

func statusLine(e *client.Error) string {
	s := fmt.Sprintf("%d", e.StatusCode)
	if e.Code != "" {
		s += " " + e.Code
	}
	return s
}

func requestIDLine(e *client.Error) string {
	if e.RequestID == "" {
		return ""
	}
	return "\n\nRequest id: " + e.RequestID + " (quote it when reporting the problem)."
}

func operationDetail(op *client.Operation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Operation %s (%s of %s %s) failed", op.ID, op.Kind, op.TargetType, op.TargetID)
	if op.Progress.StepName != "" {
		fmt.Fprintf(&b, " at step %d of %d (%s)", op.Progress.Step, op.Progress.StepCount, op.Progress.StepName)
	}
	if op.Error != "" {
		b.WriteString(": " + op.Error)
	}
	b.WriteString(".")
	if log := strings.TrimRight(op.Log, "\n"); log != "" {
		lines := strings.Split(log, "\n")
		if len(lines) > logLines {
			lines = lines[len(lines)-logLines:]
		}
		fmt.Fprintf(&b, "\n\nLast lines of its log:\n%s", strings.Join(lines, "\n"))
	}
	return b.String()
}
