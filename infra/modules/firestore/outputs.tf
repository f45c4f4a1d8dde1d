output "database" {
  value = google_firestore_database.db.name
}
