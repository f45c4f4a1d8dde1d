variable "project_id" {
  type = string
}

variable "region" {
  type = string
}

variable "image" {
  description = "The session-host image of this release."
  type        = string
}

variable "sql_proxy_image" {
  description = "Cloud SQL Auth Proxy v2 image, pinned."
  type        = string
}

variable "service_account_email" {
  type = string
}

variable "invoker_email" {
  type = string
}

variable "environment" {
  description = "Settings shared with the functions (ENV, project, tasks target and account)."
  type        = map(string)
}

variable "db_tier" {
  type = string
}

variable "db_availability" {
  description = "ZONAL or REGIONAL (a standby in a second zone)."
  type        = string
}

variable "deletion_protection" {
  type = bool
}

variable "hosts" {
  description = "Session host services, one instance each; a host claims at most WA_SESSIONS_PER_HOST salons."
  type        = number
  default     = 1
  validation {
    condition     = var.hosts >= 1 && var.hosts <= 20
    error_message = "hosts must be 1–20."
  }
}
