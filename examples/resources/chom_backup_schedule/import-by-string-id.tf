import {
  to = chom_backup_schedule.blog
  id = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
}
