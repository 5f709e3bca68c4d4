# Every night, at a time between 00:00 and 05:59 in Paris fixed for the
# site; the last 14 scheduled backups are kept, none older than 30 days.
resource "chom_backup_schedule" "blog" {
  site_id   = chom_site.blog.id
  frequency = "daily"
  timezone  = "Europe/Paris"
  keep_last = 14
  keep_days = 30
}

# The database alone, every 6 hours.
resource "chom_backup_schedule" "shop" {
  site_id   = chom_site.shop.id
  frequency = "cron"
  cron      = "@every 6h"
  type      = "database"
}

output "next_blog_backup" {
  value = chom_backup_schedule.blog.next_run_at
}
