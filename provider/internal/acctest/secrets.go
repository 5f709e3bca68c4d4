package acctest

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// KeepWorkingDirs makes the test framework create its working directories,
// and with them the raw state files, under a directory of the test, which
// it returns for StateFiles.
func KeepWorkingDirs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TF_ACC_TEMP_DIR", dir)
	return dir
}

// KeyMaterial returns the base64 lines of a PEM or OpenSSH private key:
// what of it would show in a state file however it was encoded.
func KeyMaterial(key string) []string {
	var out []string
	for _, line := range strings.Split(key, "\n") {
		line = strings.TrimSpace(line)
		if len(line) >= 32 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

// StateFiles checks every raw state file Terraform wrote under dir
// (terraform.tfstate and its backups, as they are on disk): with present
// false none may hold any of secrets, with present true the newest must
// hold all of them. It fails when no state file records a CHOM resource,
// as the check would prove nothing.
func StateFiles(dir string, present bool, secrets ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if len(secrets) == 0 {
			return fmt.Errorf("no secrets to look for")
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			return err
		}
		defer func() { _ = root.Close() }()
		var checked int
		var newest string
		var newestTime time.Time
		var newestData []byte
		err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasPrefix(d.Name(), "terraform.tfstate") {
				return err
			}
			data, err := fs.ReadFile(root.FS(), p)
			if err != nil {
				return err
			}
			if !strings.Contains(string(data), `"chom_`) {
				return nil
			}
			checked++
			if info, err := d.Info(); err == nil && d.Name() == "terraform.tfstate" && (newest == "" || info.ModTime().After(newestTime)) {
				newest, newestTime, newestData = p, info.ModTime(), data
			}
			if present {
				return nil
			}
			for i, s := range secrets {
				if strings.Contains(string(data), s) {
					return fmt.Errorf("%s holds secret #%d", p, i+1)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if checked == 0 || newest == "" {
			return fmt.Errorf("no state file under %s records a CHOM resource", dir)
		}
		if present {
			for i, s := range secrets {
				if !strings.Contains(string(newestData), s) {
					return fmt.Errorf("%s lacks secret #%d", newest, i+1)
				}
			}
		}
		return nil
	}
}

// StateLacks checks the whole state as `terraform show -json` reports it,
// sensitive values included in clear: none of secrets may appear in it.
func StateLacks(secrets ...string) statecheck.StateCheck { return stateLacks{secrets} }

type stateLacks struct{ secrets []string }

func (c stateLacks) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	if len(c.secrets) == 0 || req.State == nil || req.State.Values == nil {
		resp.Error = fmt.Errorf("nothing to check: %d secrets, state %v", len(c.secrets), req.State)
		return
	}
	data, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	for i, s := range c.secrets {
		// JSON escapes some characters of the secret the way it escapes
		// them in the state.
		enc, _ := json.Marshal(s)
		if strings.Contains(string(data), strings.Trim(string(enc), `"`)) {
			resp.Error = fmt.Errorf("the state holds secret #%d", i+1)
			return
		}
	}
}
