"""Settings for the CRM backend, read once from the environment (prefix ``CRM_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER_SECRETS = {"", "changeme", "dev-service-token", "dev-secret-key"}


class Settings(BaseSettings):
    """Every setting of the CRM deployable; ``environment=dev`` allows dev secrets."""

    model_config = SettingsConfigDict(env_prefix="CRM_", env_file=None, extra="ignore")

    environment: Literal["dev", "test", "production"] = "dev"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'crm.sqlite3'}"
    service_token: str = "dev-service-token"
    secret_key: str = "dev-secret-key"
    agent_session_hours: int = 12
    # identity verification
    verify_max_attempts: int = 3
    verify_lockout_minutes: int = 30
    step_up_code_ttl_minutes: int = 10
    step_up_max_attempts: int = 3
    # complaint SLAs (defaults; per category/severity rows in sla_policies win)
    ticket_ack_hours: int = 24
    ticket_resolve_days: int = 15
    # value and churn thresholds are code (explainable rules); only the bands live here
    churn_high_threshold: int = Field(40, ge=0, le=100)
    churn_medium_threshold: int = Field(20, ge=0, le=100)
    # human takeover: an offer not accepted in time moves to the next agent; the
    # sweep that moves it runs in the CRM process every offer_sweep_seconds
    offer_timeout_seconds: int = Field(60, ge=5)
    offer_sweep_seconds: float = Field(5.0, gt=0)
    offer_sweep_enabled: bool = True
    # the complaint breach job (flag SLA breaches, raise them to the supervisor)
    ticket_sweep_seconds: float = Field(60.0, gt=0)
    ticket_sweep_enabled: bool = True
    # ticket notices to the customer's open chat (tickets/delivery.py): a pass every
    # notice_sweep_seconds (and right after a verb), one try per notice per interval;
    # the gateway's answer may take a WeChat API call, hence a timeout of its own
    notice_sweep_seconds: float = Field(5.0, gt=0)
    notice_sweep_enabled: bool = True
    notice_timeout_seconds: float = Field(10.0, gt=0)
    # the gateway's base URL for CRM → gateway events; empty = no gateway
    gateway_url: str = ""
    gateway_timeout_seconds: float = Field(2.0, gt=0)
    # Redis pub/sub for the console hub across CRM workers; empty = in-process hub
    redis_url: str = ""
    # WeChat accepts customer-service messages this long after the customer wrote
    wechat_window_hours: float = Field(48, gt=0)
    # the console websocket: pages of other origins (comma-separated, e.g.
    # ``https://console.example.com``) besides the CRM's own; how often an open
    # socket re-checks its login session
    console_allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list
    )
    console_session_check_seconds: float = Field(60.0, gt=0)

    @field_validator("console_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return [str(v).strip().rstrip("/").lower() for v in value if str(v).strip()]
        return value

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.environment == "production":
            for name in ("service_token", "secret_key"):
                if getattr(self, name) in PLACEHOLDER_SECRETS:
                    raise ValueError(f"CRM_{name.upper()} must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings object."""
    return Settings()
