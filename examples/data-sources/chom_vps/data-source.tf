# A server registered outside this configuration, by name (or by id).
data "chom_vps" "shared" {
  name = "shared-1"
}

resource "chom_site" "docs" {
  domain = "docs.example.com"
  type   = "html"
  vps_id = data.chom_vps.shared.id
}

output "shared_php_versions" {
  value = data.chom_vps.shared.php_versions
}
