package app

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chomhq/chom/server/internal/backup"
)

// buildBackups assembles the backup service over the configured storage
// (the S3 bucket when CHOM_S3_ENDPOINT is set, else CHOM_BACKUP_DIR), its
// operations and the periodic sweep of due schedules.
func (s *Server) buildBackups(ctx context.Context, reg prometheus.Registerer) error {
	storage, err := backup.OpenStorage(ctx, backup.StorageConfig{
		Dir: s.Config.BackupDir, S3Endpoint: s.Config.S3Endpoint, S3Bucket: s.Config.S3Bucket,
		S3Region: s.Config.S3Region, S3AccessKey: s.Config.S3AccessKey, S3SecretKey: s.Config.S3SecretKey,
	})
	if err != nil {
		return err
	}
	keys, err := backup.NewKeys(s.Box)
	if err != nil {
		return err
	}
	s.Backups, err = backup.New(backup.Deps{
		Store: s.Store, Storage: storage, Keys: keys, Jobs: s.Jobs, Servers: s.VPS, Metrics: reg, Log: s.Log,
	})
	if err != nil {
		return err
	}
	for _, h := range s.Backups.Handlers() {
		s.Jobs.Register(h)
	}
	s.Jobs.AddPeriodic("backup.schedules", backup.SweepInterval, s.Backups.RunDue)
	return nil
}
