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

# The key that wraps salons' Telegram and MAX bot tokens (envelope encryption, aiadmin/core/secret_box.py): the
# tokens themselves live sealed in Firestore, one data key each. KMS rather than a secret per salon: the functions
# then need encrypt/decrypt on this one key, not secretmanager.secrets.create. Applied by a project owner with the
# secrets; the build account only reads its metadata and policy when planning.
resource "google_kms_key_ring" "secrets" {
  project  = var.project_id
  name     = "aiadmin"
  location = var.region
}

resource "google_kms_crypto_key" "bot_tokens" {
  name            = "bot-tokens"
  key_ring        = google_kms_key_ring.secrets.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = "7776000s" # 90 days; older versions keep decrypting what they sealed

  lifecycle {
    prevent_destroy = true # destroying it makes every connected bot's token unreadable
  }
}

# The owner page's function seals a pasted token (and opens it to remove the webhook): encrypt and decrypt; the
# sending functions only open.
resource "google_kms_crypto_key_iam_member" "bot_tokens" {
  for_each      = var.kms_users
  crypto_key_id = google_kms_crypto_key.bot_tokens.id
  role          = each.value
  member        = "serviceAccount:${each.key}"
}
