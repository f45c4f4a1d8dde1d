output "urls" {
  value = { for name, fn in google_cloudfunctions2_function.function : name => fn.url }
}
