output "default_url" {
  value = google_firebase_hosting_site.site.default_url
}

output "site_id" {
  value = google_firebase_hosting_site.site.site_id
}
