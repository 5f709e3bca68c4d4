# A site created outside this configuration, by domain (or by id).
data "chom_site" "legacy" {
  domain = "legacy.example.com"
}

resource "chom_backup" "legacy" {
  site_id = data.chom_site.legacy.id
}
