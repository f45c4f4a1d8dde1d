variable "project_id" {
  type = string
}

variable "region" {
  type = string
}
