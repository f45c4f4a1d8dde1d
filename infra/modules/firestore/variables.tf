variable "project_id" {
  type = string
}

variable "location_id" {
  description = "Firestore location, e.g. eur3 (multi-region) or europe-west1."
  type        = string
}

variable "delete_protection" {
  type = bool
}

variable "indexes_file" {
  description = "Path of firestore.indexes.json (Firebase CLI format)."
  type        = string
}

variable "rules_file" {
  description = "Path of firestore.rules."
  type        = string
}
