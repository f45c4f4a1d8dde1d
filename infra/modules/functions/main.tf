# One Cloud Functions (gen2) deployment per entry point of functions/main.py (infra/app.json). A handler that
# authenticates its caller as a task (`task_payload`) is private: internal ingress, and only the invoker
# account may call it. The others are public: Firebase Hosting forwards the marketplace paths to them.

locals {
  defaults = {
    memory        = "512Mi"
    cpu           = "1"
    timeout_s     = 60 # Hosting gives a rewritten request 60 s; activation's 3 callback tries of 8 s fit
    concurrency   = 8
    max_instances = 20
  }

  # Where a function differs from the defaults, and why.
  tuning = {
    # Gemini's two stages plus YCLIENTS calls; a slow model falls back to the rules provider well within this.
    ai_turn_worker = { timeout_s = 120, max_instances = 30 }
    # Company and services synced inline, then the rest queued.
    post_activation_worker = { timeout_s = 300 }
    # A large salon's clients take ~16 s at BulkWriter's pace; the sync queue runs one task at a time.
    sync_worker   = { memory = "1Gi", timeout_s = 540, concurrency = 1, max_instances = 2 }
    sync_dispatch = { timeout_s = 120, max_instances = 2 }
  }

  functions = {
    for name, fn in var.functions : name => merge(local.defaults, lookup(local.tuning, name, {}), fn, {
      # The group decides the runtime account and so the secrets: AI turns alone read the Gemini key.
      group = name == "ai_turn_worker" ? "ai" : (fn.private ? "tasks" : "public")
    })
  }
}

resource "google_cloudfunctions2_function" "function" {
  #checkov:skip=CKV_GCP_124:public entry points are public by design (YCLIENTS and Hosting call them from the internet); private ones get internal ingress below
  for_each = local.functions
  project  = var.project_id
  location = var.region
  name     = each.key

  build_config {
    runtime         = "python311"
    entry_point     = each.value.entry_point
    service_account = var.build_service_account_id

    source {
      storage_source {
        bucket = var.source_bucket
        object = var.source_object
      }
    }
  }

  service_config {
    service_account_email            = var.runtime_service_accounts[each.value.group]
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    timeout_seconds                  = each.value.timeout_s
    max_instance_request_concurrency = each.value.concurrency
    min_instance_count               = each.value.private ? 0 : var.public_min_instances
    max_instance_count               = each.value.max_instances
    ingress_settings                 = each.value.private ? "ALLOW_INTERNAL_ONLY" : "ALLOW_ALL"
    all_traffic_on_latest_revision   = true
    environment_variables            = var.environment

    dynamic "secret_environment_variables" {
      for_each = { for env, secret in var.secrets : env => secret if contains(var.group_secrets[each.value.group], env) }
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }
}

# Public functions: Firebase Hosting's rewrites and YCLIENTS call them without Google credentials; each one
# authenticates its caller itself (signed link, JWT, partner token, webhook URL token).
resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = { for name, fn in local.functions : name => fn if !fn.private }
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.function[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = { for name, fn in local.functions : name => fn if fn.private }
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.function[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${var.invoker_email}"
}
