package config

import (
	"strings"
	"testing"
	"time"
)

func TestJobSettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(c Config) bool
	}{
		{
			name: "defaults are generous",
			check: func(c Config) bool {
				return c.JobTimeout == 30*time.Minute && c.JobRescueAfter == 35*time.Minute && c.JobMaxAttempts == 5 && !c.TestJobKinds
			},
		},
		{
			name: "short settings for tests",
			env:  map[string]string{"CHOM_JOB_TIMEOUT": "5s", "CHOM_JOB_RESCUE_AFTER": "6s", "CHOM_JOB_MAX_ATTEMPTS": "2", "CHOM_TEST_JOB_KINDS": "1"},
			check: func(c Config) bool {
				return c.JobTimeout == 5*time.Second && c.JobRescueAfter == 6*time.Second && c.JobMaxAttempts == 2 && c.TestJobKinds
			},
		},
		{name: "rescue before the timeout", env: map[string]string{"CHOM_JOB_TIMEOUT": "10m", "CHOM_JOB_RESCUE_AFTER": "10m"}, wantErr: "job-rescue-after"},
		{name: "no attempts", env: map[string]string{"CHOM_JOB_MAX_ATTEMPTS": "0"}, wantErr: "job-max-attempts"},
		{name: "not a boolean", env: map[string]string{"CHOM_TEST_JOB_KINDS": "maybe"}, wantErr: "test-job-kinds"},
		{name: "test kinds in production", env: map[string]string{"CHOM_ENV": "production", "CHOM_TEST_JOB_KINDS": "true"}, wantErr: "test-job-kinds: not allowed in production"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(nil, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("config = %+v", c)
			}
		})
	}
}
