# The project's ground floor: APIs, one service account per role with its project roles, the image registry
# and the bucket the functions' source archives are uploaded to.

locals {
  apis = toset([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudkms.googleapis.com",
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
    # `terraform apply` from Cloud Build creates and changes the services below; these are the admin roles of
    # exactly the services this stack uses, not Owner or Editor. IAM is not here: it is granted below with a
    # condition, as narrower custom roles, and as acting only as the stack's own accounts. What those grants do not
    # cover (new accounts, custom roles, the grants themselves) is applied by a project owner (docs/deploying.md).
    build = [
      "roles/artifactregistry.admin",
      "roles/cloudbuild.builds.builder",
      "roles/cloudfunctions.admin",
      "roles/cloudscheduler.admin",
      "roles/cloudsql.admin",
      "roles/cloudtasks.admin",
      "roles/datastore.owner",
      "roles/firebase.admin",
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

# Planning reads the custom roles and the service accounts with their IAM policies; it changes none of them.
resource "google_project_iam_custom_role" "build_iam_reader" {
  project     = var.project_id
  role_id     = "aiadminBuildIamReader"
  title       = "AI Admin build: read IAM roles and service accounts"
  description = "What terraform plan reads of IAM; no create, update or setIamPolicy."
  permissions = [
    "iam.roles.get",
    "iam.roles.list",
    "iam.serviceAccounts.get",
    "iam.serviceAccounts.getIamPolicy",
    "iam.serviceAccounts.list",
  ]
  depends_on = [google_project_service.api]
}

resource "google_project_iam_member" "build_iam_reader" {
  project = var.project_id
  role    = google_project_iam_custom_role.build_iam_reader.name
  member  = google_service_account.account["build"].member
}

# The build account deploys as the stack's own accounts only: the functions and the host run as theirs, jobs and
# tasks carry the invoker's token, and function builds run as the build account itself. No other account of the
# project (the default compute account is an Editor) can be acted as.
resource "google_service_account_iam_member" "build_acts_as" {
  for_each           = local.accounts
  service_account_id = google_service_account.account[each.key].name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.account["build"].member
}

# Secrets: planning reads them and who may read them; it never reads a value (no secretmanager.versions.*) and
# cannot change who reads one (no setIamPolicy: else it could grant itself a value). Secrets and their readers
# are applied by a project owner, who adds the values too.
resource "google_project_iam_custom_role" "secrets_manager" {
  project     = var.project_id
  role_id     = "aiadminSecretsManager"
  title       = "AI Admin build: read secrets' metadata and IAM (no value)"
  description = "What terraform plan reads of Secret Manager and the bot-token KMS key; no value, no create, no setIamPolicy."
  depends_on  = [google_project_service.api]
  permissions = [
    "cloudkms.cryptoKeys.get",
    "cloudkms.cryptoKeys.getIamPolicy",
    "cloudkms.keyRings.get",
    "secretmanager.locations.get",
    "secretmanager.locations.list",
    "secretmanager.secrets.get",
    "secretmanager.secrets.getIamPolicy",
    "secretmanager.secrets.list",
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
