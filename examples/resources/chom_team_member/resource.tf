# An address that already has a CHOM account becomes an active member at
# once; any other address gets a pending invitation by e-mail.
resource "chom_team_member" "ops" {
  email = "ops@example.com"
  role  = "admin"
}

resource "chom_team_member" "auditors" {
  for_each = toset(["alice@example.com", "bob@example.com"])

  email = each.value
  role  = "viewer"

  timeouts = {
    create = "2m"
  }
}
