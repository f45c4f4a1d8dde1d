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

variable "region" {
  type = string
}

variable "kms_users" {
  description = "Account e-mail -> its role on the bot-token key (cryptoKeyEncrypterDecrypter or cryptoKeyDecrypter)."
  type        = map(string)
}
