# The always-on WhatsApp session host on Cloud Run, and its credentials store.
#
# `hosts` services, each exactly one instance (min = max = 1, CPU always allocated): the salons' sockets live in
# them, each claiming at most WA_SESSIONS_PER_HOST through the Firestore leases (wa_leases), which also hand a
# session over when a host dies or a deploy briefly overlaps an old and a new instance. One service per host
# because instances of one service cannot be addressed: a lease carries its holder's own URL, and a host that
# gets a send for a session it does not hold passes it there. Cloud Run's shutdown grace is fixed at 10 s after SIGTERM; the host lets go within 8 s.
#
# Credentials (whatsmeow's device store) live in Cloud SQL for PostgreSQL. The host reaches it through the
# Cloud SQL Auth Proxy sidecar with automatic IAM database authentication: the database user is the host's
# service account, so there is no password in the repository, the state or the environment.

locals {
  db_user = trimsuffix(var.service_account_email, ".gserviceaccount.com")
  # The first keeps the name (and URL) the functions send to; the others are numbered.
  host_names = { for i in range(var.hosts) : tostring(i) => i == 0 ? "session-host" : "session-host-${i}" }
  # whatsmeow takes a postgres URL as its store name; the proxy listens on localhost inside the instance and
  # logs in as the service account, so the URL holds no password.
  host_env = {
    WHATSAPP_DRIVER   = "neonize"
    WA_CREDENTIALS    = "postgres://${urlencode(local.db_user)}@127.0.0.1:5432/${google_sql_database.whatsmeow.name}?sslmode=disable"
    SESSION_HOST_PORT = "8080"
    # Sessions this host claims at most; its driver keeps a thread per live session (and half as many spare).
    WA_SESSIONS_PER_HOST = "150"
    # Go's soft heap limit inside the 1 GiB container: Python (~100 MB with 200 sessions) and the Go heap
    # (a held client ~0.7 MB measured offline, a linked one estimated 2–6 MB) share it; past this, Go collects
    # harder instead of the container being killed for memory.
    GOMEMLIMIT = "768MiB"
  }
}

resource "google_sql_database_instance" "wa" {
  #checkov:skip=CKV_GCP_79:a change of database_version is an in-place major upgrade (the salons' WhatsApp store is down meanwhile): an owner schedules it, a deploy must not trigger it
  #checkov:skip=CKV2_GCP_13:log_duration logs a line per statement (every message the host stores); query insights shows slow ones
  project             = var.project_id
  name                = "aiadmin-wa"
  region              = var.region
  database_version    = "POSTGRES_17" # 18 too exists; moving to it is an owner-scheduled upgrade (docs/deploying.md)
  deletion_protection = var.deletion_protection

  settings {
    edition           = "ENTERPRISE"
    tier              = var.db_tier
    availability_type = var.db_availability
    disk_autoresize   = true

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      start_time                     = "00:00"
    }

    ip_configuration {
      #checkov:skip=CKV_GCP_60:the public IP has no authorized networks; only the Auth Proxy (IAM + mTLS) connects
      ipv4_enabled = true
      ssl_mode     = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    }

    insights_config {
      query_insights_enabled = true
    }

    database_flags {
      name  = "cloudsql.iam_authentication"
      value = "on"
    }
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_min_messages"
      value = "error"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
    database_flags {
      name  = "log_hostname"
      value = "on"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }
  }
}

resource "google_sql_database" "whatsmeow" {
  project  = var.project_id
  instance = google_sql_database_instance.wa.name
  name     = "whatsmeow"
}

resource "google_sql_user" "host" {
  project  = var.project_id
  instance = google_sql_database_instance.wa.name
  name     = local.db_user
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}

resource "google_cloud_run_v2_service" "host" {
  for_each            = local.host_names
  project             = var.project_id
  location            = var.region
  name                = each.value
  ingress             = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  deletion_protection = var.deletion_protection

  template {
    service_account                  = var.service_account_email
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"
    timeout                          = "60s"
    max_instance_request_concurrency = 80

    scaling {
      min_instance_count = 1
      max_instance_count = 1
    }

    containers {
      name       = "host"
      image      = var.image
      depends_on = ["cloud-sql-proxy"]

      ports {
        container_port = 8080
      }

      resources {
        limits            = { cpu = "1", memory = "1Gi" }
        cpu_idle          = false # the sockets need CPU between requests
        startup_cpu_boost = true
      }

      dynamic "env" {
        # Each host's own URL: the audience of the tokens it accepts, and what its leases tell the other hosts.
        for_each = merge(var.environment, local.host_env, {
          SESSION_HOST_URL = replace(var.environment["SESSION_HOST_URL"], "https://session-host-", "https://${each.value}-")
        })
        content {
          name  = env.key
          value = env.value
        }
      }

      # /healthz answers 503 until the host has restored its sessions and listens for commands.
      startup_probe {
        http_get {
          path = "/healthz"
        }
        period_seconds    = 5
        failure_threshold = 24
      }

      liveness_probe {
        http_get {
          path = "/healthz"
        }
        period_seconds    = 30
        failure_threshold = 3
      }
    }

    containers {
      name  = "cloud-sql-proxy"
      image = var.sql_proxy_image
      args = [
        "--auto-iam-authn",
        "--port=5432",
        "--health-check",
        "--http-address=0.0.0.0",
        "--structured-logs",
        google_sql_database_instance.wa.connection_name,
      ]

      resources {
        limits   = { cpu = "1", memory = "256Mi" }
        cpu_idle = false
      }

      startup_probe {
        http_get {
          path = "/startup"
          port = 9090
        }
        period_seconds    = 2
        failure_threshold = 30
      }
    }
  }

  traffic {
    type    = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
    percent = 100
  }

  depends_on = [google_sql_user.host, google_sql_database.whatsmeow]
}

# Outbound messages reach the host's /send as Cloud Tasks carrying the invoker's OIDC token.
resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = google_cloud_run_v2_service.host
  project  = var.project_id
  location = var.region
  name     = each.value.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${var.invoker_email}"
}

# An environment applied while there was one host keeps its service: the same resources, now the first of the set.
moved {
  from = google_cloud_run_v2_service.host
  to   = google_cloud_run_v2_service.host["0"]
}

moved {
  from = google_cloud_run_v2_service_iam_member.invoker
  to   = google_cloud_run_v2_service_iam_member.invoker["0"]
}
