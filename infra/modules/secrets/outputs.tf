output "secret_ids" {
  description = "Environment variable name -> secret id, once the secret exists."
  value       = { for name, secret in google_secret_manager_secret.secret : name => secret.secret_id }
}
