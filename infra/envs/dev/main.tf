# The dev environment: literals and one module call. Deployed by cloudbuild.yaml with _ENV=dev; see README.md,
# "Deploying". Edit the literals here (project, state bucket, application id, alert address), never the modules.

terraform {
  required_version = ">= 1.6"

  required_providers {
    # Exact versions: the ones infra/ was read against. The lock file (.terraform.lock.hcl) pins their hashes.
    google = {
      source  = "hashicorp/google"
      version = "6.50.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "6.50.0"
    }
    time = {
      source  = "hashicorp/time"
      version = "0.13.1"
    }
  }

  backend "gcs" {
    bucket = "aiadmin-dev-tfstate"
    prefix = "aiadmin/dev"
  }
}

provider "google" {
  project = "aiadmin-dev"
  region  = "europe-west1"
}

provider "google-beta" {
  project = "aiadmin-dev"
  region  = "europe-west1"
}

variable "release" {
  description = "The commit to deploy (cloudbuild.yaml passes $SHORT_SHA)."
  type        = string
}

module "aiadmin" {
  source = "../../modules/stack"

  env                     = "dev"
  project_id              = "aiadmin-dev"
  region                  = "europe-west1"
  firestore_location      = "eur3"
  release                 = var.release
  yclients_app_id         = "SET-ME"
  alert_email             = "aiadmin-oncall@example.com"
  ai_provider             = "auto"
  public_min_instances    = 0
  db_tier                 = "db-f1-micro"
  db_availability         = "ZONAL"
  deletion_protection     = false
  task_log_sampling_ratio = 1.0
  max_5xx_per_5min        = 20
}

output "yclients_cabinet" {
  value = module.aiadmin.yclients_cabinet
}

output "onboarding_url" {
  value = module.aiadmin.onboarding_url
}

output "health_url" {
  value = module.aiadmin.health_url
}

output "sources_bucket" {
  value = module.aiadmin.sources_bucket
}

output "image_repository" {
  value = module.aiadmin.image_repository
}

output "hosting_site" {
  value = module.aiadmin.hosting_site
}
