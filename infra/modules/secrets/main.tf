# One Secret Manager secret per secret setting of the code (infra/app.json). Terraform creates the secrets
# without versions: people add the values (README, "Bootstrap"), so no value ever enters the Terraform state.

resource "google_secret_manager_secret" "secret" {
  for_each  = var.secrets
  project   = var.project_id
  secret_id = each.value
  labels    = { app = "aiadmin", setting = lower(each.key) }

  replication {
    auto {}
  }
}

# Each secret is readable by exactly the function groups that need it.
resource "google_secret_manager_secret_iam_member" "reader" {
  for_each = merge([
    for env, emails in var.readers : { for email in emails : "${env} ${email}" => { env = env, email = email } }
  ]...)
  project   = var.project_id
  secret_id = google_secret_manager_secret.secret[each.value.env].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${each.value.email}"
}
