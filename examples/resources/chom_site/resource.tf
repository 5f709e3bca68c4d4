# A static site on a given server.
resource "chom_site" "landing" {
  domain  = "example.com"
  aliases = ["www.example.com"]
  type    = "html"
  vps_id  = chom_vps.web.id
}

# WordPress on the server with most room, served over HTTPS. depends_on
# makes the servers active before CHOM places the site, and keeps them
# until it is deleted.
resource "chom_site" "blog" {
  domain      = "blog.example.com"
  type        = "wordpress"
  php_version = "8.2"
  https       = true

  depends_on = [chom_vps.web]
}

# A Laravel application deployed from git. Its .env variables are
# write-only (Terraform and OpenTofu 1.11 and later): raise
# environment_wo_version to send new values.
variable "shop_app_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "chom_site" "shop" {
  domain         = "shop.example.com"
  type           = "laravel"
  vps_id         = chom_vps.web.id
  git_repository = "https://github.com/acme/shop.git"
  git_branch     = "production"

  environment_wo = {
    APP_NAME = "Acme Shop"
    APP_ENV  = "production"
    APP_KEY  = var.shop_app_key
  }
  environment_wo_version = 1
}
