output "url" {
  value = google_cloud_run_v2_service.host["0"].uri
}

output "urls" {
  value = [for service in google_cloud_run_v2_service.host : service.uri]
}

output "sql_instance" {
  value = google_sql_database_instance.wa.connection_name
}
