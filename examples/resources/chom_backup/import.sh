# A backup is imported by its id (GET /api/v1/backups?site_id=… lists them).
terraform import chom_backup.before_launch 8a4f2c6e-1d3b-4e5f-9a7c-0b2d4f6e8a1c
