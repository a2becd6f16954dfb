"""Why a premium debit fails, in words a customer understands, and what to do next."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FailureReason:
    """A failure code's Chinese name, explanation and next step for the customer."""

    label: str
    explanation: str
    advice: str


FAILURE_REASONS: dict[str, FailureReason] = {
    "insufficient_funds": FailureReason(
        "余额不足",
        "扣款时您的扣款账户余额不足，银行未能完成扣款。",
        "请确保扣款账户余额充足后我们将于3个工作日内再次扣款，"
        "您也可以通过微信或支付宝主动缴费。",
    ),
    "card_expired": FailureReason(
        "银行卡已过期",
        "您登记的扣款银行卡已过有效期，银行拒绝了本次扣款。",
        "请更换为有效的银行卡（可在本对话中完成身份验证后变更扣款账户），"
        "或通过微信、支付宝主动缴费。",
    ),
    "account_frozen": FailureReason(
        "账户已冻结",
        "您的扣款账户目前处于冻结或止付状态，无法扣款。",
        "请联系开户银行解除冻结，或变更为其他本人名下的银行账户。",
    ),
    "bank_limit": FailureReason(
        "超出银行单笔限额",
        "本期保费超出了该银行卡的单笔或单日代扣限额。",
        "请联系开户银行提高代扣限额，或通过柜面、银行转账方式缴费。",
    ),
    "account_closed": FailureReason(
        "账户已销户",
        "您登记的扣款账户已经注销，无法继续扣款。",
        "请在完成身份验证后变更扣款账户，我们会在变更后重新发起扣款。",
    ),
    "authorization_revoked": FailureReason(
        "代扣授权已取消",
        "您与银行之间的代扣授权已被取消，我们暂时无法从该账户扣款。",
        "请重新签署代扣授权或变更扣款账户，也可以通过微信、支付宝主动缴费。",
    ),
    "account_mismatch": FailureReason(
        "户名或账号不符",
        "银行核对时发现扣款账户的户名或账号与登记信息不一致。",
        "请核对并变更为投保人本人名下的正确账户。",
    ),
    "bank_system_error": FailureReason(
        "银行系统繁忙",
        "扣款时银行系统暂时无法处理，并非您的账户问题。",
        "无需操作，我们将于3个工作日内自动再次扣款。",
    ),
}

UNKNOWN_REASON = FailureReason(
    "扣款未成功",
    "银行未能完成本次扣款。",
    "请确认扣款账户状态正常，或联系人工客服协助查询。",
)


def describe_failure(code: str | None) -> FailureReason | None:
    """The customer-facing explanation of a failure code; None for no failure."""
    if not code:
        return None
    return FAILURE_REASONS.get(code, UNKNOWN_REASON)
