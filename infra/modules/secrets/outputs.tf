output "secret_ids" {
  description = "Environment variable name -> secret id, once the secret exists."
  value       = { for name, secret in google_secret_manager_secret.secret : name => secret.secret_id }
}

output "bot_token_key" {
  description = "The KMS key that wraps bot tokens (SECRETS_KMS_KEY)."
  value       = google_kms_crypto_key.bot_tokens.id
}
