# Firebase on the project, the web app whose config Hosting serves at /__/firebase/init.json (the onboarding
# page reads it), and the Hosting site. Its content is deployed by cloudbuild.yaml (`firebase deploy --only
# hosting`); rules and indexes are Terraform's (modules/firestore), never the Firebase CLI's.

resource "google_firebase_project" "project" {
  provider = google-beta
  project  = var.project_id
}

resource "google_firebase_web_app" "onboarding" {
  provider        = google-beta
  project         = var.project_id
  display_name    = "AI Admin onboarding"
  deletion_policy = "DELETE"
  depends_on      = [google_firebase_project.project]
}

resource "google_firebase_hosting_site" "site" {
  provider = google-beta
  project  = var.project_id
  site_id  = var.site_id
  app_id   = google_firebase_web_app.onboarding.app_id
}
