resource "chom_backup" "before_launch" {
  site_id     = chom_site.blog.id
  type        = "full"
  description = "Before the launch"

  # Restores nothing when the backup is taken. Changing it later to a new
  # value (here, after an incident) restores the backup into the site on
  # the next apply, in place: the site's files and database go back to
  # what the backup holds, and the apply waits for the restore.
  restore_trigger = "2024-06-01 incident 42"

  timeouts = {
    create = "1h"
    update = "1h"
  }
}

output "backup_sha256" {
  value = chom_backup.before_launch.sha256
}
