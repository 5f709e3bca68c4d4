# The credentials are read while Terraform runs and never stored in the
# plan or the state: they may only flow into ephemeral contexts, such as a
# provider configuration or a write-only argument. Here they are copied
# into Vault, through the write-only data_json_wo of a KV secret.
ephemeral "chom_site_database_credentials" "blog" {
  site_id = chom_site.blog.id
}

resource "vault_kv_secret_v2" "blog_database" {
  mount = "secret"
  name  = "sites/blog.example.com/database"

  data_json_wo = jsonencode({
    host     = ephemeral.chom_site_database_credentials.blog.host
    database = ephemeral.chom_site_database_credentials.blog.database
    username = ephemeral.chom_site_database_credentials.blog.username
    password = ephemeral.chom_site_database_credentials.blog.password
  })
  data_json_wo_version = 1
}
