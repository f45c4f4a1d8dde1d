"""The YCLIENTS marketplace flow: the signed redirect, registration and its token, the onboarding API, activation,
lifecycle and data webhooks (intake and processing), post-activation, health. Imports `core`, `yclients`,
`whatsapp` and `sync`."""
