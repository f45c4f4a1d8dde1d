output "yclients_cabinet" {
  description = "What to enter in the YCLIENTS developer cabinet for this environment."
  value = {
    registration_redirect_url = "${local.base_url}/auth/yclients/redirect"
    callback_url              = "${local.base_url}/webhook/yclients"
    webhook_base_url          = "${local.base_url}/webhook/yclients/"
  }
}

output "base_url" {
  value = local.base_url
}

output "onboarding_url" {
  value = "${local.base_url}/marketplace/onboarding"
}

output "health_url" {
  value = "${local.base_url}/marketplace/health"
}

output "session_host_url" {
  value = module.session_host.url
}

output "hosting_site" {
  value = module.hosting.site_id
}

output "sources_bucket" {
  value = module.foundation.sources_bucket
}

output "image_repository" {
  value = module.foundation.image_repository
}
