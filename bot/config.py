"""Settings of the gateway, read once from the environment.

Gateway-only settings carry the ``GATEWAY_`` prefix; the addresses and tokens it
shares with the other processes keep their project-wide names (``CRM_URL``,
``CRM_SERVICE_TOKEN``, ``RASA_URL``, ``RASA_TOKEN``, ``REDIS_URL``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "dev-service-token", "dev-rasa-token"}


def _alias(name: str) -> AliasChoices:
    """Accept the shared name and its ``GATEWAY_`` twin (the shared name wins)."""
    return AliasChoices(name, f"GATEWAY_{name}")


class Settings(BaseSettings):
    """Every setting of the gateway; ``environment=dev`` allows the dev secrets."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_file=None, extra="ignore", populate_by_name=True
    )

    environment: Literal["dev", "test", "production"] = "dev"
    crm_url: str = Field("http://127.0.0.1:8000", validation_alias=_alias("CRM_URL"))
    crm_service_token: str = Field(
        "dev-service-token", validation_alias=_alias("CRM_SERVICE_TOKEN")
    )
    rasa_url: str = Field("http://127.0.0.1:5005", validation_alias=_alias("RASA_URL"))
    rasa_token: str = Field("dev-rasa-token", validation_alias=_alias("RASA_TOKEN"))
    # Set: socket.io rooms span every gateway process (socketio.AsyncRedisManager).
    redis_url: str | None = Field(None, validation_alias=_alias("REDIS_URL"))
    redis_channel: str = "gateway-socketio"  # pub/sub channel of the socket.io rooms
    # Seconds; a Rasa turn slower than this gets the polite notice instead.
    rasa_timeout_seconds: float = Field(10.0, gt=0)
    crm_timeout_seconds: float = Field(5.0, gt=0)
    queue_poll_seconds: float = Field(5.0, gt=0)
    # Browser origins (other than the gateway's own) allowed to open a socket,
    # e.g. a host page running rasa-webchat directly; comma separated.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Public address of the gateway, for the widget snippet and the printed URLs.
    public_url: str = "http://127.0.0.1:8001"
    # WeChat Official Account (bot/channels/wechat); unset token = channel off.
    wechat_token: str | None = Field(None, validation_alias=_alias("WECHAT_TOKEN"))
    wechat_app_id: str | None = Field(None, validation_alias=_alias("WECHAT_APP_ID"))
    wechat_app_secret: str | None = Field(
        None, validation_alias=_alias("WECHAT_APP_SECRET")
    )
    # EncodingAESKey (43 characters): safe and compatible mode.
    wechat_aes_key: str | None = Field(
        None, min_length=43, max_length=43, validation_alias=_alias("WECHAT_AES_KEY")
    )
    wechat_api_base: str = Field(
        "https://api.weixin.qq.com", validation_alias=_alias("WECHAT_API_BASE")
    )
    # WeChat waits 5 s for a passive reply; slower turns answer "success" and
    # go through the customer-service message API.
    wechat_passive_seconds: float = Field(4.5, gt=0, lt=5)
    wechat_max_body_bytes: int = Field(64 * 1024, gt=0)
    wechat_max_skew_seconds: float = Field(300.0, gt=0)  # older signatures: 403

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator(
        "wechat_token",
        "wechat_app_id",
        "wechat_app_secret",
        "wechat_aes_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.environment == "production":
            for name in ("crm_service_token", "rasa_token"):
                if getattr(self, name) in PLACEHOLDER_SECRETS:
                    raise ValueError(f"{name.upper()} must be set in production")
        if self.wechat_token and not (self.wechat_app_id and self.wechat_app_secret):
            raise ValueError("WECHAT_APP_ID and WECHAT_APP_SECRET go with WECHAT_TOKEN")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings object."""
    return Settings()
