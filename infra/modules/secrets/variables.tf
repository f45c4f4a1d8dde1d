variable "project_id" {
  type = string
}

variable "secrets" {
  description = "Environment variable name -> Secret Manager secret id."
  type        = map(string)
}

variable "readers" {
  description = "Environment variable name -> e-mails of the accounts that read its value (the function groups)."
  type        = map(list(string))
}
