import {
  to = chom_backup.before_launch
  id = "8a4f2c6e-1d3b-4e5f-9a7c-0b2d4f6e8a1c"
}
