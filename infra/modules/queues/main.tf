# One Cloud Tasks queue per queue spec of the code (aiadmin/core/queues.py, via infra/app.json).

resource "google_cloud_tasks_queue" "queue" {
  for_each = var.queues
  project  = var.project_id
  location = var.region
  name     = each.key

  rate_limits {
    max_dispatches_per_second = each.value.max_dispatches_per_second
    max_concurrent_dispatches = each.value.max_concurrent_dispatches
  }

  retry_config {
    max_attempts  = each.value.max_attempts
    min_backoff   = each.value.min_backoff
    max_backoff   = each.value.max_backoff
    max_doublings = 5
  }

  stackdriver_logging_config {
    sampling_ratio = var.log_sampling_ratio
  }
}
