# The project's ground floor: APIs, one service account per role with its project roles, the image registry
# and the bucket the functions' source archives are uploaded to.

locals {
  apis = toset([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "cloudtasks.googleapis.com",
    "firebase.googleapis.com",
    "firebasehosting.googleapis.com",
    "firebaserules.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "serviceusage.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
  ])

  # The functions run as one account per group, each reading only the secrets its group needs (stack:
  # group_secrets): a public entry point cannot read the Gemini key, a task handler not the JWT secret.
  accounts = {
    functions-public = "AI Admin public functions (redirect, onboarding API, activation, webhooks, health)"
    functions-tasks  = "AI Admin task handlers (webhooks, post-activation, sync)"
    functions-ai     = "AI Admin AI turns"
    session-host     = "AI Admin WhatsApp session host"
    invoker          = "Cloud Tasks and Cloud Scheduler caller of the private handlers"
    build            = "Cloud Build: tests, images, function builds, terraform apply"
  }

  # Project-wide roles. Narrower grants (secrets, invoking a service, acting as the invoker) sit on the
  # resources themselves, in the modules that own them.
  function_roles = [
    "roles/datastore.user",      # Firestore: the state of record
    "roles/cloudtasks.enqueuer", # fan-out and retries
    "roles/logging.logWriter",
  ]

  project_roles = {
    # /marketplace/health (public) reads a queue to prove Cloud Tasks answers.
    functions-public = concat(local.function_roles, ["roles/cloudtasks.viewer"])
    functions-tasks  = local.function_roles
    functions-ai     = local.function_roles
    session-host = [
      "roles/datastore.user",
      "roles/cloudtasks.enqueuer", # incoming messages become AI-turn tasks
      "roles/logging.logWriter",
      "roles/cloudsql.client",       # the Cloud SQL Auth Proxy sidecar
      "roles/cloudsql.instanceUser", # IAM database login (no password anywhere)
    ]
    invoker = []
    # `terraform apply` from Cloud Build creates and changes everything below; these are the admin roles of
    # exactly the services this stack uses, not Owner or Editor. The IAM-admin and secret roles are not here:
    # they are granted below with conditions or as a narrower custom role.
    build = [
      "roles/artifactregistry.admin",
      "roles/cloudbuild.builds.builder",
      "roles/cloudfunctions.admin",
      "roles/cloudscheduler.admin",
      "roles/cloudsql.admin",
      "roles/cloudtasks.admin",
      "roles/datastore.owner",
      "roles/firebase.admin",
      "roles/iam.serviceAccountUser",
      "roles/logging.configWriter",
      "roles/logging.logWriter",
      "roles/monitoring.editor",
      "roles/run.admin",
      "roles/serviceusage.serviceUsageAdmin",
      "roles/storage.admin",
    ]
  }

  # Every project role this stack grants: the only ones the build account may grant (conditioned IAM admin).
  grantable = sort(distinct(flatten([for account, roles in local.project_roles : roles if account != "build"])))

  grants = merge([
    for account, roles in local.project_roles : { for role in roles : "${account} ${role}" => { account = account, role = role } }
  ]...)
}

resource "google_project_service" "api" {
  for_each           = local.apis
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_service_account" "account" {
  for_each     = local.accounts
  project      = var.project_id
  account_id   = "aiadmin-${each.key}"
  display_name = each.value
  depends_on   = [google_project_service.api]
}

resource "google_project_iam_member" "role" {
  for_each = local.grants
  project  = var.project_id
  role     = each.value.role
  member   = google_service_account.account[each.value.account].member
}

# The build account manages project IAM only for the roles this stack grants, never Owner, Editor or IAM admin.
resource "google_project_iam_member" "build_iam_admin" {
  project = var.project_id
  role    = "roles/resourcemanager.projectIamAdmin"
  member  = google_service_account.account["build"].member

  condition {
    title       = "only-stack-roles"
    description = "May grant and revoke only the roles the AI Admin stack grants."
    expression  = "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(${jsonencode(local.grantable)})"
  }
}

# …and administers only the stack's own service accounts.
resource "google_project_iam_member" "build_account_admin" {
  #checkov:skip=CKV_GCP_49:the build account must create the stack's service accounts; the condition limits it to aiadmin-* accounts, which checkov does not read
  project = var.project_id
  role    = "roles/iam.serviceAccountAdmin"
  member  = google_service_account.account["build"].member

  condition {
    title       = "only-aiadmin-accounts"
    description = "Service accounts named aiadmin-* only."
    expression  = "resource.name.startsWith(\"projects/${var.project_id}/serviceAccounts/aiadmin-\")"
  }
}

# Secrets: create them and set who reads them, but never read a value (no secretmanager.versions.access).
resource "google_project_iam_custom_role" "secrets_manager" {
  project     = var.project_id
  role_id     = "aiadminSecretsManager"
  title       = "AI Admin secrets manager (no value access)"
  description = "Create Secret Manager secrets and set their IAM; values are added by people."
  permissions = [
    "secretmanager.locations.get",
    "secretmanager.locations.list",
    "secretmanager.secrets.create",
    "secretmanager.secrets.delete",
    "secretmanager.secrets.get",
    "secretmanager.secrets.getIamPolicy",
    "secretmanager.secrets.list",
    "secretmanager.secrets.setIamPolicy",
    "secretmanager.secrets.update",
  ]
}

resource "google_project_iam_member" "build_secrets" {
  project = var.project_id
  role    = google_project_iam_custom_role.secrets_manager.name
  member  = google_service_account.account["build"].member
}

# Cloud Tasks and the session host put the invoker's OIDC token on the requests they create.
resource "google_service_account_iam_member" "act_as_invoker" {
  for_each           = toset(["functions-public", "functions-tasks", "functions-ai", "session-host"])
  service_account_id = google_service_account.account["invoker"].name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.account[each.value].member
}

resource "google_artifact_registry_repository" "images" {
  #checkov:skip=CKV_GCP_84:Google-managed encryption; the images hold code, no data or secrets, and a CSEK/CMEK key would be one more thing to lose
  project       = var.project_id
  location      = var.region
  repository_id = "aiadmin"
  format        = "DOCKER"
  description   = "AI Admin container images (session host)"

  # Images older than 90 days go, except the 20 newest (rollback targets); KEEP wins over DELETE.
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      tag_state  = "ANY"
      older_than = "7776000s"
    }
  }

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 20
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_storage_bucket" "sources" {
  #checkov:skip=CKV_GCP_62:access logs of a build-artefact bucket add nothing; Cloud Audit Logs record who changed it
  project                     = var.project_id
  name                        = "${var.project_id}-aiadmin-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # Archives are named by release and kept: a function's build_config points at its release's archive, and a
  # rollback redeploys an older one. Only overwritten copies are pruned.
  lifecycle_rule {
    condition {
      num_newer_versions = 3
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }
}
