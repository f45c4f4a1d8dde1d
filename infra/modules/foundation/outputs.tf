output "emails" {
  description = "Service account e-mail per role (functions-public, functions-tasks, functions-ai, session-host, invoker, build)."
  value       = { for key, account in google_service_account.account : key => account.email }
}

output "ids" {
  description = "Service account resource ids per role."
  value       = { for key, account in google_service_account.account : key => account.id }
}

output "image_repository" {
  value = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "sources_bucket" {
  value = google_storage_bucket.sources.name
}

output "apis" {
  description = "Depend on this to order resources after their APIs are enabled."
  value       = [for api in google_project_service.api : api.id]
}
