"""One typed settings object, read from the environment (Secret Manager values arrive as env vars)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiadmin.core.errors import ConfigurationError

DEV_ONLY_PREFIX = "dev-only-"

# Settings every deployed function needs; health reports which are absent (as booleans, never values).
REQUIRED_SETTINGS = (
    "yclients_partner_token",
    "yclients_app_id",
    "jwt_secret",
    "webhook_secret",
    "base_url",
    "google_cloud_project",
)

# What a deployment (Terraform) sets on every function besides the secrets; `infra/` is tested against it.
DEPLOYED_SETTINGS = (
    *REQUIRED_SETTINGS,
    "env",
    "region",
    "tasks_target_base_url",
    "tasks_service_account",
    "session_host_url",
    "secrets_kms_key",
)
# What a deployment sets on the session host.
SESSION_HOST_SETTINGS = (
    "env",
    "google_cloud_project",
    "region",
    "tasks_target_base_url",  # incoming messages become AI-turn tasks
    "tasks_service_account",
    "whatsapp_driver",
    "wa_credentials",
    "session_host_url",  # its own URL: the audience of the tokens it accepts, and where its notices are queued
    "wa_sessions_per_host",
)
# Secrets that exist only on a developer's machine (OIDC stands in for it when deployed).
LOCAL_ONLY_SECRETS = ("task_shared_secret", "local_secret_key")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # Production behaviour unless told otherwise: private endpoints demand OIDC, the simulator refuses to run.
    env: Literal["local", "dev", "prod"] = "prod"
    log_level: str = "INFO"
    google_cloud_project: str | None = None
    region: str = "europe-west1"

    # YCLIENTS
    yclients_api_base: str = "https://api.yclients.com"
    yclients_partner_token: SecretStr | None = None
    yclients_user_token: SecretStr | None = None
    yclients_app_id: str | None = None
    yclients_timeout_s: float = 10.0
    yclients_max_attempts: int = Field(default=4, ge=1, le=10)
    yclients_rate_per_second: float = 5.0
    sync_write_ops_per_s: int = 500  # BulkWriter's pace; Firestore's advice for a new collection is 500/s
    yclients_rate_per_minute: int = 200
    yclients_retry_after_cap_s: float = 30.0
    # The activation callback runs while the owner waits on the page: fewer, shorter tries.
    activation_callback_attempts: int = Field(default=3, ge=1, le=6)
    activation_callback_timeout_s: float = 8.0

    # Marketplace
    jwt_secret: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    base_url: str | None = None
    registration_ttl_s: int = 3600
    redirects_per_user_per_minute: int = Field(default=20, ge=1)
    owner_page_loads_per_minute: int = Field(default=20, ge=1)  # per registration token
    owner_replies_per_day: int = Field(default=200, ge=1)  # per salon: answers written on the owner page
    allow_unsigned_redirects: bool = False
    webhook_dedup_window_s: int = 24 * 3600

    # Tasks
    tasks_driver: Literal["cloud", "local"] = "cloud"
    tasks_local_url: str = "http://127.0.0.1:5020"
    tasks_target_base_url: str | None = None  # where task handlers live: the functions' base URL
    tasks_service_account: str | None = None  # OIDC identity Cloud Tasks signs with
    task_shared_secret: SecretStr | None = None  # local stand-in for OIDC
    oidc_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"  # Google's ID-token signing certificates

    # Salons' Telegram and MAX bots (aiadmin.channels): their API servers (a local stand-in in dev and tests), the
    # KMS key their tokens are sealed with (aiadmin.core.secret_box), and a local stand-in for it.
    telegram_api_base: str = "https://api.telegram.org"
    max_api_base: str = "https://platform-api2.max.ru"
    max_ca_bundle: str | None = None  # a CA bundle with the Russian Trusted Root CA, which MAX's certificate needs
    bot_api_timeout_s: float = 10.0
    secrets_kms_key: str | None = None
    local_secret_key: SecretStr | None = None

    gemini_api_key: SecretStr | None = None
    ai_provider: Literal["auto", "gemini", "rules"] = "auto"  # auto: gemini when a key is set, rules otherwise
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str | None = None  # a Gemini-compatible endpoint (tests use a scripted local one)
    gemini_timeout_s: float = 8.0
    ai_burst_quiet_s: float = 3.0  # a customer's messages within this quiet time make one turn
    ai_complete_quiet_s: float = 0.8  # …but a question (ending in «?») waits only this long
    ai_unreadable_wait_s: float = 60.0  # a message WhatsApp could not decrypt: wait this long for a readable copy
    ai_voice_wait_s: float = 20.0  # a voice note's sound still downloading on the host: the turn waits this long
    ai_staff_pause_min: int = 120  # staff wrote to this customer from the phone: the bot keeps out this long
    # A message WhatsApp delivers this long after it was written (the salon's phone was offline, a host died holding
    # it) is left for a person: «сегодня» and «через час» no longer mean what the customer meant.
    ai_late_after_min: int = 180

    # WhatsApp session host
    whatsapp_driver: Literal["neonize", "simulated"] = "neonize"
    wa_credentials: str = ".devstack/wa-credentials"  # directory of the per-salon credential stores
    wa_lease_ttl_s: float = 30.0
    wa_send_interval_s: float = 3.0  # at most one message per session per interval (+ jitter)
    wa_send_jitter_s: float = 2.0
    wa_send_burst: int = 20  # replies to customers a session may send at once (then one per interval)
    # A freshly linked number warms up: for this many days its burst is smaller and the messages it starts to people
    # who never wrote to it (reminders, notices) go one per warm-up interval. New numbers that write cold at full
    # speed are what WhatsApp bans first.
    wa_warmup_days: int = 7
    wa_warmup_burst: int = 8
    wa_warmup_cold_interval_s: float = 60.0
    # Sessions one host holds at most (others are left to the other hosts); the driver's threads are sized from it.
    wa_sessions_per_host: int = 150
    wa_proxy_url: str | None = None  # an egress proxy for the WhatsApp sockets (socks5:// or http://); never logged
    session_host_port: int = 5030
    session_host_url: str | None = None  # the local gateway proxies /simulator/ here
    host_id: str | None = None
    sim_qr_ttl_s: float = 20.0  # simulated WhatsApp only: how often its QR rotates…
    sim_qr_rotations: int = 6  # …and how many QRs it shows before the link expires

    @field_validator(
        "yclients_api_base", "base_url", "tasks_target_base_url", "tasks_local_url", "telegram_api_base", "max_api_base"
    )
    @classmethod
    def _strip_slash(cls, v: str | None) -> str | None:
        return v.rstrip("/") if v else v

    def _value(self, name: str) -> str | None:
        raw = getattr(self, name)
        if raw is None:
            return None
        value = raw.get_secret_value() if isinstance(raw, SecretStr) else str(raw)
        if not value:
            return None
        if self.env == "prod" and value.startswith(DEV_ONLY_PREFIX):
            return None  # a local placeholder is as good as missing in production
        return value

    def require(self, name: str) -> str:
        value = self._value(name)
        if value is None:
            raise ConfigurationError(f"setting {name.upper()} is not configured")
        return value

    def missing(self) -> list[str]:
        names = [n for n in REQUIRED_SETTINGS if self._value(n) is None]
        if self.tasks_driver == "cloud" and self._value("tasks_target_base_url") is None:
            names.append("tasks_target_base_url")
        if self.env == "prod" and self.allow_unsigned_redirects:
            names.append("allow_unsigned_redirects(must be false in prod)")
        return [n.upper() for n in names]

    @property
    def unsigned_redirects_allowed(self) -> bool:
        return self.allow_unsigned_redirects and self.env == "local"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
