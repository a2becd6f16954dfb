"""Masking of personal numbers for every view that does not need them whole."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` → ``138****5678``."""
    if not phone:
        return phone
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def mask_tail(number: str | None, keep: int = 4) -> str | None:
    """Everything but the last ``keep`` characters starred (ID, bank account)."""
    if not number:
        return number
    if len(number) <= keep:
        return "*" * len(number)
    return "*" * (len(number) - keep) + number[-keep:]


def mask_id_number(id_number: str | None) -> str | None:
    """An 18-character ID number shown as ``**************123X``."""
    return mask_tail(id_number, 4)


def mask_email(email: str | None) -> str | None:
    """``zhangwei@example.com`` → ``z***@example.com``."""
    if not email or "@" not in email:
        return email
    user, domain = email.split("@", 1)
    return f"{user[:1]}***@{domain}"


def mask_name(name: str | None) -> str | None:
    """``张伟`` → ``张*`` (for views that do not need the name)."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)
