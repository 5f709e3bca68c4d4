# A schedule is imported by its site's id.
terraform import chom_backup_schedule.blog 3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d
