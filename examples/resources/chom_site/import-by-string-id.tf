import {
  to = chom_site.landing
  id = "example.com"
}
