variable "project_id" {
  type = string
}

variable "secrets" {
  description = "Environment variable name -> Secret Manager secret id."
  type        = map(string)
}

variable "reader_email" {
  description = "The one account that reads the values: the functions' runtime account."
  type        = string
}
