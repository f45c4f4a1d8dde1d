variable "env" {
  description = "dev or prod (the ENV setting)."
  type        = string
  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "env is dev or prod."
  }
}

variable "project_id" {
  type = string
}

variable "region" {
  description = "Functions, Cloud Run, Tasks, Scheduler, Cloud SQL; must match the regions in web/firebase.json."
  type        = string
}

variable "firestore_location" {
  type = string
}

variable "release" {
  description = "The commit being deployed: the session-host image tag and the functions' archive name."
  type        = string
}

variable "yclients_app_id" {
  description = "The marketplace application id from the YCLIENTS developer cabinet."
  type        = string
  validation {
    condition     = can(regex("^[0-9]+$", var.yclients_app_id))
    error_message = "Set yclients_app_id (digits) to the application id from the YCLIENTS developer cabinet."
  }
}

variable "alert_email" {
  type = string
}

variable "custom_base_url" {
  description = "The public base URL when the site has a custom domain; null means <project>.web.app."
  type        = string
  default     = null
}

variable "ai_provider" {
  description = "auto (Gemini with a key, rules without), gemini or rules."
  type        = string
}

variable "public_min_instances" {
  type = number
}

variable "db_tier" {
  type = string
}

variable "db_availability" {
  type = string
}

variable "deletion_protection" {
  type = bool
}

variable "task_log_sampling_ratio" {
  type = number
}

variable "max_5xx_per_5min" {
  type = number
}

variable "sql_proxy_image" {
  type    = string
  default = "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1"
}

variable "session_hosts" {
  description = "WhatsApp session host services (one instance each); add one per WA_SESSIONS_PER_HOST salons."
  type        = number
  default     = 1
}
