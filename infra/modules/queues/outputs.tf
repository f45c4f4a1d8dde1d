output "names" {
  value = [for queue in google_cloud_tasks_queue.queue : queue.name]
}
