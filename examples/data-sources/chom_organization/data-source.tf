data "chom_organization" "current" {}

output "organization" {
  value = "${data.chom_organization.current.name} (${data.chom_organization.current.id})"
}
