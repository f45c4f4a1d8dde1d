# What wakes the person on call. Log-based metrics count the structured log lines the code writes (each
# `message` below is a log message in the code; a test holds them together), plus the 5xx rate of every
# function and the session host.

locals {
  log_alerts = {
    activation_failures = {
      title     = "Activation failed"
      filter    = "jsonPayload.message=\"activation failed\""
      threshold = 0
      window    = "600s"
      runbook   = "A salon owner pressed Connect and YCLIENTS refused the install callback. `jsonPayload.reason` holds YCLIENTS's words; the owner sees them on the page with a retry button. Several in a row: check the YCLIENTS partner token and application id secrets, then YCLIENTS's status."
    }
    whatsapp_logged_out = {
      title     = "A salon's WhatsApp logged out"
      filter    = "jsonPayload.message=\"whatsapp session ended\" AND jsonPayload.state=\"logged_out\""
      threshold = 0
      window    = "300s"
      runbook   = "The salon unlinked the device or WhatsApp ended the session: its customers get no answers until the owner links again from the onboarding page. `jsonPayload.salon_id` names the salon; contact the owner. Many at once: look for a WhatsApp ban wave or a neonize incompatibility."
    }
    whatsapp_down = {
      title     = "A salon's WhatsApp has been down for 10 minutes"
      filter    = "jsonPayload.message=\"whatsapp session down\""
      threshold = 0
      window    = "600s"
      runbook   = "The session host cannot reach WhatsApp for this salon and keeps retrying (up to every 5 min); it recovers by itself and logs \"whatsapp session recovered\". `jsonPayload.salon_id` names the salon. Many salons at once: WhatsApp or the host's network is down — check the session host's logs and Cloud Run egress; nothing for owners to do."
    }
    whatsapp_temporarily_banned = {
      title     = "WhatsApp temporarily banned a salon's number"
      filter    = "jsonPayload.message=\"whatsapp temporarily banned\""
      threshold = 0
      window    = "300s"
      runbook   = "WhatsApp blocked the salon's number until `jsonPayload.until` (usually for sending to many people who never wrote). The session resumes by itself then; the owner's page says so and offers no relink. Look at what the salon sent (reminders, notices) before it: a ban repeated means lower sending or fewer first-contact messages."
    }
    send_dead_lettered = {
      title     = "A message to a customer was given up on"
      filter    = "jsonPayload.message=\"send dead-lettered\""
      threshold = 0
      window    = "600s"
      runbook   = "Every retry of one outgoing message failed (the session was down or paced for ~30 min). It is kept in `wa_dead_letters/{key}` with its text, customer and reason; reply to the customer from the salon's phone or resend once the session is back. Many: the session host or WhatsApp is down."
    }
    host_full = {
      title     = "A session host is full"
      filter    = "jsonPayload.message=\"host full; session left to another host\""
      threshold = 0
      window    = "600s"
      runbook   = "A salon asked to link (or resume) and this host already holds WA_SESSIONS_PER_HOST sessions. If every host is full the salon gets no QR and no answers: raise the stack's `session_hosts` and apply (docs/deploying.md)."
    }
    inbound_lost = {
      title     = "A customer's message could not be stored"
      filter    = "jsonPayload.message=\"inbound message still not stored\" OR jsonPayload.message=\"inbound message held in memory only\""
      threshold = 0
      window    = "600s"
      runbook   = "The session host received a customer's message but could not store it in its conversation or queue its AI turn after 5 tries (`jsonPayload.error`). It is kept in `wa_inbox` and tried every ~10 s until it is stored (7 days at most); `held in memory only`: Firestore refused the journal too, and a restart of the host now loses it. The customer has no answer yet: check Firestore and Cloud Tasks availability and the host's service account."
    }
    whatsapp_stream_replaced = {
      title     = "A salon's WhatsApp link was taken over twice"
      filter    = "jsonPayload.message=\"whatsapp stream replaced\""
      threshold = 0
      window    = "300s"
      runbook   = "Another client opened the salon's WhatsApp link twice within 10 minutes while our host held its lease, so the session stopped (`failed`). Check for a second session host running with the same credentials (an old revision, a local run against production), then ask the owner to relink from the onboarding page."
    }
    forged_webhooks = {
      title     = "Data webhooks to forged or retired URLs"
      filter    = "jsonPayload.message=\"webhook to a retired or forged URL\""
      threshold = 50
      window    = "3600s"
      runbook   = "Deliveries to a webhook URL whose token is not the salon's current one (`jsonPayload.salon_id`). A few after a reinstall: YCLIENTS still uses the old install's URL. Many: someone is guessing URLs; nothing is stored or written for them, so this is only worth watching for volume (Cloud Armor or a rate limit in front of the function if it grows)."
    }
    owner_code_locked = {
      title     = "Owner codes guessed wrong five times"
      filter    = "jsonPayload.message=\"owner code locked after wrong tries\""
      threshold = 2
      window    = "3600s"
      runbook   = "A link to a salon's owner page (another YCLIENTS user than the installer) typed five wrong codes and is locked for 15 minutes; `jsonPayload.salon_id` names the salon. Several for one salon: someone is trying to get into its owner page — the events `owner_code_sent` / `owner_code_locked` hold the YCLIENTS user id; tell the owner."
    }
    clock_skew = {
      title     = "A process's clock is off Firestore's"
      filter    = "jsonPayload.message=\"this process's clock is off Firestore's\""
      threshold = 0
      window    = "3600s"
      runbook   = "A function instance or the session host reads times from Firestore more than 2 s away from its own clock (`jsonPayload.skew_s`). Locks, leases and task delays already follow Firestore's clock, so nothing hangs; but other times it writes (messages, reminders) are off by that much. On Cloud Run this should never happen: report the instance to Google support."
    }
    sync_errors = {
      title     = "Salon data sync failing"
      filter    = "jsonPayload.message=\"sync failed\""
      threshold = 5
      window    = "900s"
      runbook   = "YCLIENTS → Firestore sync modules fail. `/marketplace/health` lists the failing salons and modules (sync_state). Transient errors are retried by the sync queue; lost access is recorded and not retried."
    }
  }
}

resource "google_monitoring_notification_channel" "email" {
  project      = var.project_id
  display_name = "AI Admin on call (${var.env})"
  type         = "email"
  labels       = { email_address = var.alert_email }
}

resource "google_logging_metric" "log" {
  for_each    = local.log_alerts
  project     = var.project_id
  name        = "aiadmin_${each.key}"
  description = each.value.title
  filter      = "resource.type=\"cloud_run_revision\" AND ${each.value.filter}"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }
}

# An alert on a log-based metric fails for up to ~10 minutes after the metric is created (the provider's issue
# 11102: "Cannot find metric(s)"). The alerts wait that long the first time; later applies do not.
resource "time_sleep" "metrics_settle" {
  create_duration = "600s"
  triggers        = { metrics = join(",", sort([for m in google_logging_metric.log : m.name])) }
}

resource "google_monitoring_alert_policy" "log" {
  for_each              = local.log_alerts
  depends_on            = [time_sleep.metrics_settle]
  project               = var.project_id
  display_name          = "[${var.env}] ${each.value.title}"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = each.value.title
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.log[each.key].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"

      aggregations {
        alignment_period     = each.value.window
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    content   = each.value.runbook
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "http_5xx" {
  project               = var.project_id
  display_name          = "[${var.env}] 5xx answers"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = "More than ${var.max_5xx_per_5min} 5xx answers in 5 minutes"
    condition_threshold {
      filter          = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND metric.labels.response_code_class=\"5xx\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.max_5xx_per_5min
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    content   = "A function or the session host answers 5xx. Task handlers answer 503 on purpose when YCLIENTS or WhatsApp is down (Cloud Tasks retries), so a burst during an upstream outage is expected; a steady rate is not. The alert names the service; its logs at severity>=ERROR say why. `/marketplace/health` shows Firestore, the task queue and the settings."
    mime_type = "text/markdown"
  }
}

# Request logs of two routes carry what must not sit in logs: the registration redirect's query (the installer's
# signed user data — name, phone, e-mail — and its signature, replayable within the hour) and the data webhooks'
# URL token. Cloud Run's request log keeps the whole URL, so those entries are not stored; our own log lines for
# them carry the path only (core.http.loggable_path).
resource "google_logging_project_exclusion" "secret_urls" {
  project     = var.project_id
  name        = "aiadmin-secret-urls"
  description = "Request logs of the registration redirect (signed user data in the query) and of data webhooks (a token in the path)."
  filter      = "httpRequest.requestUrl:\"/auth/yclients/redirect\" OR httpRequest.requestUrl:\"/webhook/yclients/\""
}
