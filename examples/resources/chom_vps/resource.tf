# The private key is a write-only argument (Terraform and OpenTofu 1.11 and
# later): it reaches CHOM, which stores it encrypted, and never the plan or
# the state. Raise ssh_private_key_wo_version to send a new key.
variable "ssh_private_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "chom_vps" "web" {
  name                          = "web-1"
  host                          = "203.0.113.10"
  expected_host_key_fingerprint = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"

  ssh_private_key_wo         = var.ssh_private_key
  ssh_private_key_wo_version = 1

  capacity = 40
  labels = {
    env  = "production"
    team = "web"
  }

  timeouts = {
    create = "30m"
  }
}

# With a CLI older than 1.11, give the key through ssh_private_key, which
# the state keeps (marked sensitive).
resource "chom_vps" "legacy" {
  name            = "legacy-1"
  host            = "vps2.example.com"
  port            = 2222
  ssh_user        = "deploy"
  ssh_private_key = file("~/.ssh/chom_legacy")
}
