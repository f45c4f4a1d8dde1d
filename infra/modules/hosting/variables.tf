variable "project_id" {
  type = string
}

variable "site_id" {
  description = "Hosting site id; the project id adopts the project's default site (<id>.web.app)."
  type        = string
}
