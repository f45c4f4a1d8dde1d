output "jobs" {
  value = [for job in google_cloud_scheduler_job.job : job.name]
}
