# The image cloudbuild.yaml runs the checks in (built inside the build, never pushed): Debian bookworm with
# Node.js 20, Python 3.11, Java 17, Chromium, gcloud's Firestore emulator and the terraform binary (the offline
# checks need `terraform fmt` only; no provider is downloaded).
FROM hashicorp/terraform:1.11.4 AS terraform

FROM node:20-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv python3-pip make openjdk-17-jre-headless chromium chromium-driver libmagic1 \
      curl gnupg ca-certificates \
 && curl -sS https://packages.cloud.google.com/apt/doc/apt-key.gpg | gpg --dearmor -o /usr/share/keyrings/cloud.google.gpg \
 && echo "deb [signed-by=/usr/share/keyrings/cloud.google.gpg] https://packages.cloud.google.com/apt cloud-sdk main" \
      > /etc/apt/sources.list.d/google-cloud-sdk.list \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      google-cloud-cli google-cloud-cli-firestore-emulator \
 && rm -rf /var/lib/apt/lists/*
COPY --from=terraform /bin/terraform /usr/local/bin/terraform
