terraform {
  required_providers {
    chom = {
      source = "chomhq/chom"
    }
  }
}

# endpoint and token fall back to the CHOM_ENDPOINT and CHOM_TOKEN
# environment variables; leave the token out of the configuration.
provider "chom" {
  endpoint        = "https://chom.example.com"
  request_timeout = "30s"
  max_retries     = 4
}
