# The Firestore database with what the repository says about it: composite indexes, index exemptions and TTL
# policies from web/firestore.indexes.json, the security rules from web/firestore.rules. The emulator reads
# the same two files, so local and deployed behaviour cannot drift apart.

locals {
  config = jsondecode(file(var.indexes_file))

  indexes = {
    for index in local.config.indexes :
    join(".", concat([index.collectionGroup], [for field in index.fields : field.fieldPath])) => index
  }
  overrides = { for o in local.config.fieldOverrides : "${o.collectionGroup}.${o.fieldPath}" => o }
}

resource "google_firestore_database" "db" {
  project                           = var.project_id
  name                              = "(default)"
  location_id                       = var.location_id
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "PESSIMISTIC"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = var.delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = "ABANDON"
}

resource "google_firestore_index" "composite" {
  for_each    = local.indexes
  project     = var.project_id
  database    = google_firestore_database.db.name
  collection  = each.value.collectionGroup
  query_scope = each.value.queryScope

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.fieldPath
      order        = lookup(fields.value, "order", null)
      array_config = lookup(fields.value, "arrayConfig", null)
    }
  }
}

resource "google_firestore_field" "override" {
  for_each   = local.overrides
  project    = var.project_id
  database   = google_firestore_database.db.name
  collection = each.value.collectionGroup
  field      = each.value.fieldPath

  # An empty index_config exempts the field from single-field indexing (big QR data URLs, TTL timestamps).
  index_config {
    dynamic "indexes" {
      for_each = each.value.indexes
      content {
        query_scope  = lookup(indexes.value, "queryScope", null)
        order        = lookup(indexes.value, "order", null)
        array_config = lookup(indexes.value, "arrayConfig", null)
      }
    }
  }

  dynamic "ttl_config" {
    for_each = lookup(each.value, "ttl", false) ? [true] : []
    content {}
  }
}

resource "google_firebaserules_ruleset" "firestore" {
  project = var.project_id

  source {
    files {
      name    = "firestore.rules"
      content = file(var.rules_file)
    }
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [google_firestore_database.db]
}

resource "google_firebaserules_release" "firestore" {
  project      = var.project_id
  name         = "cloud.firestore"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore.name}"

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore]
  }
}
