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

resource "google_secret_manager_secret_iam_member" "reader" {
  for_each  = var.secrets
  project   = var.project_id
  secret_id = google_secret_manager_secret.secret[each.key].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.reader_email}"
}
