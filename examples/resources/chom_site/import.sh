# A site is imported by its id or by its domain. Its environment variables
# are not imported: they stay in CHOM until the configuration sends new ones.
terraform import chom_site.landing example.com
terraform import chom_site.blog 5d2c9e1a-7b3f-4a6e-8c1d-2e9f0a4b6c8d
