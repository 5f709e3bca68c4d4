package provision

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
)

func TestParseFacts(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    Facts
		wantErr string
	}{
		{
			name: "debian with two PHP versions",
			out: "os=Debian GNU/Linux 12 (bookworm)\nos_id=debian\nos_like=\ncpus=4\nmemory_kb=8039000\n" +
				"disk_bytes=85899345920\nphp=8.3\nphp=8.2\napt=yes\nuid=0\n",
			want: Facts{OS: "Debian GNU/Linux 12 (bookworm)", OSID: "debian", CPUCount: 4, MemoryBytes: 8039000 * 1024,
				DiskBytes: 85899345920, PHPVersions: []string{"8.2", "8.3"}, HasAPT: true, Root: true},
		},
		{
			name: "ubuntu without PHP, through sudo",
			out:  "os=Ubuntu 24.04.1 LTS\nos_id=ubuntu\nos_like=debian\ncpus=1\nmemory_kb=1000\ndisk_bytes=1\napt=yes\nuid=0\n",
			want: Facts{OS: "Ubuntu 24.04.1 LTS", OSID: "ubuntu", OSLike: []string{"debian"}, CPUCount: 1, MemoryBytes: 1024000,
				DiskBytes: 1, PHPVersions: []string{}, HasAPT: true, Root: true},
		},
		{
			name: "junk php versions are dropped, duplicates merged, order numeric",
			out:  "os=x\ncpus=2\nmemory_kb=1\ndisk_bytes=1\nphp=8.10\nphp=*\nphp=8.9\nphp=8.9\nphp=7.4.1\napt=no\nuid=1000\n",
			want: Facts{OS: "x", CPUCount: 2, MemoryBytes: 1024, DiskBytes: 1, PHPVersions: []string{"8.9", "8.10"}},
		},
		{name: "missing memory", out: "os=x\ncpus=2\ndisk_bytes=1\n", wantErr: "memory_kb: missing"},
		{name: "garbage cpu count", out: "os=x\ncpus=two\nmemory_kb=1\ndisk_bytes=1\n", wantErr: `cpus: not a number: "two"`},
		{name: "zero cpus", out: "os=x\ncpus=0\nmemory_kb=1\ndisk_bytes=1\n", wantErr: "cpus: not positive"},
		{name: "no os", out: "cpus=1\nmemory_kb=1\ndisk_bytes=1\n", wantErr: "no os"},
		{name: "empty", out: "", wantErr: "unexpected output from the facts script"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFacts(tt.out)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrUnexpectedOutput) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.OS != tt.want.OS || got.OSID != tt.want.OSID || !slices.Equal(got.OSLike, tt.want.OSLike) ||
				got.CPUCount != tt.want.CPUCount || got.MemoryBytes != tt.want.MemoryBytes || got.DiskBytes != tt.want.DiskBytes ||
				!slices.Equal(got.PHPVersions, tt.want.PHPVersions) || got.PHPVersions == nil ||
				got.HasAPT != tt.want.HasAPT || got.Root != tt.want.Root {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFactsSupported(t *testing.T) {
	tests := []struct {
		facts Facts
		want  string
	}{
		{Facts{OS: "Debian", HasAPT: true, Root: true}, ""},
		{Facts{OS: "Alpine Linux v3.20", HasAPT: false, Root: true}, `unsupported operating system "Alpine Linux v3.20"`},
		{Facts{OS: "Debian", HasAPT: true, Root: false}, "sudo without a password"},
	}
	for _, tt := range tests {
		err := tt.facts.Supported()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: %v, want %q", tt.facts, err, tt.want)
		}
	}
}

func TestParseHealth(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    Health
		wantErr string
	}{
		{
			name: "healthy",
			out: "load1=0.42\nmemory_total_kb=2000\nmemory_available_kb=500\ndisk_total_bytes=1000\ndisk_used_bytes=250\n" +
				"nginx=running\nphp_fpm=running\n",
			want: Health{Load1: 0.42, MemoryUsedBytes: 1500 * 1024, MemoryTotalBytes: 2000 * 1024, DiskUsedBytes: 250,
				DiskTotalBytes: 1000, NginxRunning: true, PHPFPMRunning: true},
		},
		{
			name: "services stopped",
			out:  "load1=3\nmemory_total_kb=2000\nmemory_available_kb=2000\ndisk_total_bytes=1\ndisk_used_bytes=1\nnginx=stopped\nphp_fpm=stopped\n",
			want: Health{Load1: 3, MemoryTotalBytes: 2000 * 1024, DiskUsedBytes: 1, DiskTotalBytes: 1},
		},
		{
			name: "available above total never gives negative use",
			out:  "load1=0\nmemory_total_kb=1\nmemory_available_kb=2\ndisk_total_bytes=1\ndisk_used_bytes=1\n",
			want: Health{MemoryTotalBytes: 1024, DiskUsedBytes: 1, DiskTotalBytes: 1},
		},
		{name: "no load", out: "memory_total_kb=1\nmemory_available_kb=1\ndisk_total_bytes=1\ndisk_used_bytes=1\n", wantErr: "load1: missing"},
		{name: "bad disk", out: "load1=1\nmemory_total_kb=1\nmemory_available_kb=1\ndisk_total_bytes=-5\ndisk_used_bytes=1\n", wantErr: "disk_total_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHealth(tt.out)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrUnexpectedOutput) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestOctalMode(t *testing.T) {
	tests := []struct {
		mode uint32
		want string
	}{{0o755, "755"}, {0o700, "700"}, {0o644, "644"}, {0o0, "0"}}
	for _, tt := range tests {
		if got := octalMode(fs.FileMode(tt.mode)); got != tt.want {
			t.Errorf("%o: %q, want %q", tt.mode, got, tt.want)
		}
	}
}
