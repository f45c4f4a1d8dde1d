output "url" {
  value = google_cloud_run_v2_service.host.uri
}

output "sql_instance" {
  value = google_sql_database_instance.wa.connection_name
}
