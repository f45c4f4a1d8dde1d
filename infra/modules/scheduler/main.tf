# One Cloud Scheduler job per job of the code's timetable (aiadmin/sync/timetable.py, via infra/app.json),
# in its time zone. Each posts {"job": name} to sync_dispatch with the invoker's OIDC token; sync_dispatch
# names its tasks by the scheduled minute, so a retried job adds nothing.

resource "google_cloud_scheduler_job" "job" {
  for_each         = var.jobs
  project          = var.project_id
  region           = var.region
  name             = each.key
  description      = each.value.description
  schedule         = each.value.schedule
  time_zone        = var.time_zone
  attempt_deadline = "180s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
    max_backoff_duration = "300s"
  }

  http_target {
    http_method = "POST"
    uri         = var.target_url
    body        = base64encode(jsonencode({ job = each.key }))
    headers     = { "Content-Type" = "application/json" }

    oidc_token {
      service_account_email = var.invoker_email
      audience              = var.target_url
    }
  }
}
