package apidiag

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/chomhq/chom/provider/internal/client"
)

// want describes one expected diagnostic.
type want struct {
	path     string // "" for a diagnostic on no attribute
	contains []string
}

func TestAppend(t *testing.T) {
	fields := Fields{"email": path.Root("email"), "role": path.Root("role")}
	tests := []struct {
		name string
		err  error
		want []want
	}{
		{
			name: "every invalid field is mapped",
			err: fmt.Errorf("create team member: %w", &client.Error{StatusCode: 422, Code: "validation_failed", Message: "the request has invalid fields",
				Fields: map[string]string{"role": "must be one of owner, admin, member, viewer", "email": "must be a valid e-mail address"}, RequestID: "req-1"}),
			want: []want{
				{path: "email", contains: []string{"rejected this value: must be a valid e-mail address", "req-1"}},
				{path: "role", contains: []string{"must be one of owner, admin, member, viewer"}},
			},
		},
		{
			name: "fields the resource does not know go to a general error",
			err: &client.Error{StatusCode: 422, Code: "validation_failed", Message: "the request has invalid fields",
				Fields: map[string]string{"email": "taken", "Idempotency-Key": "was used with a different request"}},
			want: []want{
				{path: "email", contains: []string{"taken"}},
				{contains: []string{"422 validation_failed", "Idempotency-Key: was used with a different request"}},
			},
		},
		{
			name: "an element of a list or map field goes to the field's attribute",
			err: &client.Error{StatusCode: 422, Code: "validation_failed", Message: "the request has invalid fields",
				Fields: map[string]string{"email[1]": "must be ASCII", "role.admin": "is reserved", "emails": "unknown"}},
			want: []want{
				{path: "email", contains: []string{"rejected this value: email[1] must be ASCII"}},
				{path: "role", contains: []string{"rejected this value: role.admin is reserved"}},
				{contains: []string{"emails: unknown"}},
			},
		},
		{
			name: "an API error without fields",
			err:  &client.Error{StatusCode: 403, Code: "insufficient_role", Message: "your role does not allow this", RequestID: "req-2"},
			want: []want{{contains: []string{"403 insufficient_role: your role does not allow this", "Request id: req-2"}}},
		},
		{
			name: "a failed operation shows its error and the end of its log",
			err: &client.OperationError{Operation: &client.Operation{
				ID: "op_1", Kind: "site.create", TargetType: "site", TargetID: "site_1", Status: "failed", Error: "nginx -t failed",
				Progress: client.OperationProgress{Step: 4, StepCount: 9, StepName: "write vhost"},
				Log:      strings.Repeat("noise\n", 30) + "last line\n",
			}},
			want: []want{{contains: []string{"op_1", "step 4 of 9 (write vhost)", "nginx -t failed", "last line"}}},
		},
		{
			name: "anything else",
			err:  errors.New("dial tcp 127.0.0.1:1: connection refused"),
			want: []want{{contains: []string{"connection refused"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var diags diag.Diagnostics
			Append(&diags, "Could not do it", tt.err, fields)
			if len(diags) != len(tt.want) {
				t.Fatalf("got %d diagnostics, want %d: %v", len(diags), len(tt.want), diags)
			}
			for i, w := range tt.want {
				d := diags[i]
				if d.Severity() != diag.SeverityError || d.Summary() != "Could not do it" {
					t.Errorf("diagnostic %d = %v %q", i, d.Severity(), d.Summary())
				}
				got := ""
				if wp, ok := d.(diag.DiagnosticWithPath); ok {
					got = wp.Path().String()
				}
				if got != w.path {
					t.Errorf("diagnostic %d path = %q, want %q", i, got, w.path)
				}
				for _, c := range w.contains {
					if !strings.Contains(d.Detail(), c) {
						t.Errorf("diagnostic %d detail %q lacks %q", i, d.Detail(), c)
					}
				}
			}
		})
	}
}

func TestAppendShowsOnlyTheEndOfALongLog(t *testing.T) {
	var log strings.Builder
	for i := range 100 {
		fmt.Fprintf(&log, "line %03d\n", i)
	}
	var diags diag.Diagnostics
	Append(&diags, "failed", &client.OperationError{Operation: &client.Operation{ID: "op", Log: log.String()}}, nil)
	detail := diags[0].Detail()
	if strings.Contains(detail, "line 079") || !strings.Contains(detail, "line 080") || !strings.Contains(detail, "line 099") {
		t.Errorf("detail keeps the wrong lines:\n%s", detail)
	}
}
