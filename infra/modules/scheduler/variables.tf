variable "project_id" {
  type = string
}

variable "region" {
  type = string
}

variable "time_zone" {
  description = "The timetable's time zone (IANA name)."
  type        = string
}

variable "jobs" {
  description = "Job name -> {schedule (cron), description}, from infra/app.json."
  type = map(object({
    schedule    = string
    description = string
  }))
}

variable "target_url" {
  description = "URL of the sync_dispatch function."
  type        = string
}

variable "invoker_email" {
  type = string
}
