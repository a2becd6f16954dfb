"""Chinese labels of the policy, premium and claim vocabularies, and display helpers.

One module so that the bot and the agent console show the same words.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from crm_backend.models.enums import (
    PRODUCT_TYPE_LABELS,
    BillStatus,
    ClaimStatus,
    ClaimType,
    PaymentFrequency,
    PaymentMethod,
    PaymentResult,
    PolicyStatus,
    ProductType,
    SalesChannel,
)

# Due dates, grace periods and hesitation periods are counted in the insurer's days.
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")

POLICY_STATUS_LABELS = {
    PolicyStatus.in_force: "有效",
    PolicyStatus.grace: "宽限期",
    PolicyStatus.lapsed: "失效",
    PolicyStatus.surrendered: "已退保",
    PolicyStatus.matured: "满期",
}

FREQUENCY_LABELS = {
    PaymentFrequency.annual: "年缴",
    PaymentFrequency.semiannual: "半年缴",
    PaymentFrequency.quarterly: "季缴",
    PaymentFrequency.monthly: "月缴",
    PaymentFrequency.single: "趸缴",
}

SALES_CHANNEL_LABELS = {
    SalesChannel.agent: "代理人",
    SalesChannel.bancassurance: "银行保险",
    SalesChannel.online: "互联网",
    SalesChannel.telemarketing: "电话销售",
    SalesChannel.broker: "经纪代理",
}

BILL_STATUS_LABELS = {
    BillStatus.due: "待缴费",
    BillStatus.paid: "已缴费",
    BillStatus.overdue: "已逾期",
    BillStatus.failed: "扣款失败",
}

PAYMENT_METHOD_LABELS = {
    PaymentMethod.bank_debit: "银行卡自动扣款",
    PaymentMethod.wechat_pay: "微信支付",
    PaymentMethod.alipay: "支付宝",
    PaymentMethod.bank_transfer: "银行转账",
    PaymentMethod.counter: "柜面缴费",
}

PAYMENT_RESULT_LABELS = {
    PaymentResult.success: "成功",
    PaymentResult.failed: "失败",
}

CLAIM_TYPE_LABELS = {
    ClaimType.medical: "医疗",
    ClaimType.critical_illness: "重疾",
    ClaimType.accident: "意外",
    ClaimType.death: "身故",
    ClaimType.disability: "伤残",
    ClaimType.hospital_allowance: "住院津贴",
}

CLAIM_STATUS_LABELS = {
    ClaimStatus.reported: "已报案",
    ClaimStatus.documents_pending: "待补充材料",
    ClaimStatus.under_review: "审核中",
    ClaimStatus.approved: "已结案待支付",
    ClaimStatus.paid: "已赔付",
    ClaimStatus.rejected: "拒赔",
    ClaimStatus.withdrawn: "已撤案",
}

CUSTOMER_ROLE_LABELS = {
    "holder": "投保人",
    "insured": "被保险人",
    "holder_insured": "投保人兼被保险人",
}


def product_type_label(value: ProductType) -> str:
    """The Chinese name of a product type (重疾险…)."""
    return PRODUCT_TYPE_LABELS[value]


def yuan(fen: int) -> str:
    """Integer fen as a yuan display string: ``500000`` → ``"5,000.00"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def business_today() -> date:
    """Today's date in the insurer's time zone."""
    return datetime.now(BUSINESS_TZ).date()
