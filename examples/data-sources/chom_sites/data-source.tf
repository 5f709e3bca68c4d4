# Every active WordPress site on one server.
data "chom_sites" "wordpress_on_web" {
  vps_id = chom_vps.web.id
  type   = "wordpress"
  status = "active"
}

# A backup of each of them.
resource "chom_backup" "wordpress" {
  for_each = { for s in data.chom_sites.wordpress_on_web.sites : s.domain => s.id }

  site_id     = each.value
  description = "Before the PHP upgrade"
}
