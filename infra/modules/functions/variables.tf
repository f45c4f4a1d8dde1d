variable "project_id" {
  type = string
}

variable "region" {
  type = string
}

variable "functions" {
  description = "Function name -> {entry_point, private}, from infra/app.json."
  type = map(object({
    entry_point = string
    private     = bool
  }))
}

variable "source_bucket" {
  type = string
}

variable "source_object" {
  description = "The release's archive (infra/package_functions.py): main.py, aiadmin/, requirements.txt."
  type        = string
}

variable "runtime_service_accounts" {
  description = "Function group (public, tasks, ai) -> e-mail of the account its functions run as."
  type        = map(string)
}

variable "group_secrets" {
  description = "Function group -> the secret settings (environment variable names) its functions get."
  type        = map(list(string))
}

variable "build_service_account_id" {
  description = "Resource id of the account Cloud Build uses to build the functions."
  type        = string
}

variable "invoker_email" {
  description = "The account whose OIDC token Cloud Tasks and Cloud Scheduler send to private functions."
  type        = string
}

variable "environment" {
  description = "Environment variables of every function (settings; see aiadmin/core/settings.py)."
  type        = map(string)
}

variable "secrets" {
  description = "Environment variable name -> Secret Manager secret id, mounted as the latest version."
  type        = map(string)
}

variable "public_min_instances" {
  description = "Warm instances of each public function (the owner's page and YCLIENTS wait on them)."
  type        = number
}
