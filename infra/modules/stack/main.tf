# One environment of AI Admin. The roots (infra/envs/*) call this with literals only, so dev and prod differ in
# values, never in shape. What the code defines (entry points, queues, the timetable, secret settings) comes from
# infra/app.json, which `make infra-manifest` writes from the code and the tests keep current.

locals {
  app = jsondecode(file("${path.module}/../../app.json"))
  web = "${path.module}/../../../web"

  functions_base_url = "https://${var.region}-${var.project_id}.cloudfunctions.net"
  # The host's deterministic Cloud Run URL: known before the service exists, so the host can carry its own URL
  # (the audience it checks every caller's token against) and the functions address it by the same one.
  session_host_url = "https://session-host-${data.google_project.this.number}.${var.region}.run.app"
  base_url         = coalesce(var.custom_base_url, module.hosting.default_url)

  # Every function gets the same settings (aiadmin/core/settings.py; DEPLOYED_SETTINGS must all be here or secrets).
  function_env = {
    ENV                   = var.env
    LOG_LEVEL             = "INFO"
    GOOGLE_CLOUD_PROJECT  = var.project_id
    REGION                = var.region
    BASE_URL              = local.base_url
    YCLIENTS_APP_ID       = var.yclients_app_id
    TASKS_DRIVER          = "cloud"
    TASKS_TARGET_BASE_URL = local.functions_base_url
    TASKS_SERVICE_ACCOUNT = module.foundation.emails["invoker"]
    SESSION_HOST_URL      = local.session_host_url
    AI_PROVIDER           = var.ai_provider
    SECRETS_KMS_KEY       = module.secrets.bot_token_key
  }

  # Which secret settings each function group reads (least privilege; a test holds this against the code).
  group_secrets = {
    public = ["JWT_SECRET", "WEBHOOK_SECRET", "YCLIENTS_PARTNER_TOKEN", "YCLIENTS_USER_TOKEN"]
    tasks  = ["YCLIENTS_PARTNER_TOKEN", "YCLIENTS_USER_TOKEN"]
    ai     = ["GEMINI_API_KEY", "YCLIENTS_PARTNER_TOKEN", "YCLIENTS_USER_TOKEN"]
  }
  group_accounts = {
    public = module.foundation.emails["functions-public"]
    tasks  = module.foundation.emails["functions-tasks"]
    ai     = module.foundation.emails["functions-ai"]
  }

  # The session host's settings besides its driver and credentials store (SESSION_HOST_SETTINGS).
  host_env = {
    SESSION_HOST_URL      = local.session_host_url
    ENV                   = var.env
    LOG_LEVEL             = "INFO"
    GOOGLE_CLOUD_PROJECT  = var.project_id
    REGION                = var.region
    TASKS_DRIVER          = "cloud"
    TASKS_TARGET_BASE_URL = local.functions_base_url
    TASKS_SERVICE_ACCOUNT = module.foundation.emails["invoker"]
  }
}

data "google_project" "this" {
  project_id = var.project_id
}

module "foundation" {
  source     = "../foundation"
  project_id = var.project_id
  region     = var.region
}

module "secrets" {
  source     = "../secrets"
  project_id = var.project_id
  secrets    = local.app.secrets
  readers = {
    for env in keys(local.app.secrets) : env => [for group, names in local.group_secrets : local.group_accounts[group] if contains(names, env)]
  }
  region = var.region
  kms_users = {
    (local.group_accounts["public"]) = "roles/cloudkms.cryptoKeyEncrypterDecrypter" # owner_api connects and removes bots
    (local.group_accounts["tasks"])  = "roles/cloudkms.cryptoKeyDecrypter"          # channel_send_worker sends
  }
  depends_on = [module.foundation] # the Secret Manager API is enabled there; the first apply raced it
}

module "firestore" {
  source            = "../firestore"
  project_id        = var.project_id
  location_id       = var.firestore_location
  delete_protection = var.deletion_protection
  indexes_file      = "${local.web}/firestore.indexes.json"
  rules_file        = "${local.web}/firestore.rules"
  depends_on        = [module.foundation, module.hosting] # the rules release needs the Firebase project
}

module "queues" {
  source             = "../queues"
  project_id         = var.project_id
  region             = var.region
  queues             = local.app.queues
  log_sampling_ratio = var.task_log_sampling_ratio
  depends_on         = [module.foundation]
}

module "hosting" {
  source     = "../hosting"
  project_id = var.project_id
  site_id    = var.project_id
  depends_on = [module.foundation]
}

module "session_host" {
  source                = "../session_host"
  project_id            = var.project_id
  region                = var.region
  image                 = "${module.foundation.image_repository}/session-host:${var.release}"
  sql_proxy_image       = var.sql_proxy_image
  service_account_email = module.foundation.emails["session-host"]
  invoker_email         = module.foundation.emails["invoker"]
  environment           = local.host_env
  db_tier               = var.db_tier
  db_availability       = var.db_availability
  deletion_protection   = var.deletion_protection
  hosts                 = var.session_hosts
  depends_on            = [module.firestore, module.queues]
}

module "functions" {
  source                   = "../functions"
  project_id               = var.project_id
  region                   = var.region
  functions                = local.app.functions
  source_bucket            = module.foundation.sources_bucket
  source_object            = "functions/${var.release}.zip"
  runtime_service_accounts = local.group_accounts
  group_secrets            = local.group_secrets
  build_service_account_id = module.foundation.ids["build"]
  invoker_email            = module.foundation.emails["invoker"]
  environment              = local.function_env
  secrets                  = module.secrets.secret_ids
  public_min_instances     = var.public_min_instances
  depends_on               = [module.secrets, module.firestore, module.queues]
}

module "scheduler" {
  source        = "../scheduler"
  project_id    = var.project_id
  region        = var.region
  time_zone     = local.app.schedule.time_zone
  jobs          = local.app.schedule.jobs
  target_url    = "${local.functions_base_url}/sync_dispatch"
  invoker_email = module.foundation.emails["invoker"]
  depends_on    = [module.functions]
}

module "monitoring" {
  source           = "../monitoring"
  project_id       = var.project_id
  env              = var.env
  alert_email      = var.alert_email
  max_5xx_per_5min = var.max_5xx_per_5min
  depends_on       = [module.foundation]
}
