variable "project_id" {
  type = string
}

variable "region" {
  type = string
}

variable "queues" {
  description = "Queue name -> limits, from infra/app.json."
  type = map(object({
    max_dispatches_per_second = number
    max_concurrent_dispatches = number
    max_attempts              = number
    min_backoff               = string
    max_backoff               = string
  }))
}

variable "log_sampling_ratio" {
  description = "Share of task attempts Cloud Tasks logs (0..1)."
  type        = number
}
