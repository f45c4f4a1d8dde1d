variable "project_id" {
  type = string
}

variable "env" {
  type = string
}

variable "alert_email" {
  description = "Where alerts go."
  type        = string
}

variable "max_5xx_per_5min" {
  description = "5xx answers per service in 5 minutes above which the on-call person is alerted."
  type        = number
}
