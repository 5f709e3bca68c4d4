package provision

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/chomhq/chom/server/internal/sshx"
)

// The functions below move a site's files and database between its server
// and the control plane as streams, for backups and restores. Nothing is
// spooled on the server: an archive leaves it as it is read, and a restore
// is fed in over stdin. Each is safe to run again: a backup is simply taken
// again, and a restore starts over and ends in the same state.

// Streamer runs a command whose output is data to pass on rather than to
// capture; *sshx.Executor is the real one.
type Streamer interface {
	Stream(ctx context.Context, t sshx.Target, cmd sshx.Command, stdout io.Writer) (sshx.Result, error)
}

// ArchiveSiteFiles writes a tar of the site's application directory to w,
// read as the site user; its one top-level entry is the directory's base
// name. Compressing is left to the caller, so that the site's server
// spends no CPU on it.
func ArchiveSiteFiles(ctx context.Context, h *Host, s Site, w io.Writer) error {
	if err := checkSiteName(s.Name); err != nil {
		return fmt.Errorf("archive site files: %w", err)
	}
	if err := h.streamScript(ctx, w, "backup_files", s.Name, s.Home(), s.AppDir()); err != nil {
		return fmt.Errorf("archive site files: %w", err)
	}
	return nil
}

// DumpSiteDatabase writes a consistent SQL dump of the database db to w. The dump names no database, so it restores into any.
func DumpSiteDatabase(ctx context.Context, h *Host, db string, w io.Writer) error {
	if err := checkSiteName(db); err != nil {
		return fmt.Errorf("dump site database: %w", err)
	}
	if err := h.streamScript(ctx, w, "backup_database", db); err != nil {
		return fmt.Errorf("dump site database: %w", err)
	}
	return nil
}

// RestoreSiteFiles replaces the site's application directory with the one
// in r, an archive made by ArchiveSiteFiles (of this site or another). The
// archive is extracted aside as the site user and swapped in only once
// complete; the site's managed configuration files stay the site's own.
// A read error on r aborts the restore before anything is swapped.
func RestoreSiteFiles(ctx context.Context, h *Host, s Site, r io.Reader) error {
	if err := checkSiteName(s.Name); err != nil {
		return fmt.Errorf("restore site files: %w", err)
	}
	args := append([]string{s.Name, s.Home(), s.AppDir()}, s.ManagedFiles()...)
	if err := h.feedScript(ctx, r, "restore_files", args...); err != nil {
		return fmt.Errorf("restore site files: %w", err)
	}
	return nil
}

// RestoreSiteDatabase replaces the content of the existing database db with
// the dump in r, made by DumpSiteDatabase.
func RestoreSiteDatabase(ctx context.Context, h *Host, db string, r io.Reader) error {
	if err := checkSiteName(db); err != nil {
		return fmt.Errorf("restore site database: %w", err)
	}
	if err := h.feedScript(ctx, r, "restore_database", db); err != nil {
		return fmt.Errorf("restore site database: %w", err)
	}
	return nil
}

// ManagedFiles lists the files of the application directory that CHOM
// writes with the site's own settings and credentials (see WordPressConfig
// and LaravelEnv), relative to it. A restore keeps the site's own.
func (s Site) ManagedFiles() []string {
	switch s.Type {
	case SiteWordPress:
		return []string{"wp-config.php"}
	case SiteLaravel:
		return []string{".env"}
	}
	return nil
}

func checkSiteName(name string) error {
	if !siteNamePattern.MatchString(name) {
		return fmt.Errorf("site name %q is not site<16 hex digits>", name)
	}
	return nil
}

// streamScript runs one of the package's scripts as root, its stdout going
// to w as it arrives.
func (h *Host) streamScript(ctx context.Context, w io.Writer, name string, args ...string) error {
	s, ok := h.Runner.(Streamer)
	if !ok {
		return errors.New("the host's runner cannot stream output")
	}
	body, err := script(name)
	if err != nil {
		return err
	}
	cmd := sshx.Script{Body: body, Args: args}.Command()
	// As Run does: everything here needs root.
	if h.Target.User != "root" {
		cmd.Args = append([]string{"sudo", "-n", "--"}, cmd.Args...)
	}
	_, err = s.Stream(ctx, h.Target, cmd, w)
	return err
}

// feedScript runs one of the package's scripts with r as its stdin.
func (h *Host) feedScript(ctx context.Context, r io.Reader, name string, args ...string) error {
	body, err := script(name)
	if err != nil {
		return err
	}
	cmd := sshx.Script{Body: body, Args: args}.Command()
	cmd.Stdin = r
	_, err = h.Run(ctx, cmd)
	return err
}
