"""Canned replies: the standard set, seeding it, searching it, filling variables.

Variables: ``{customer_name}`` (how the agent addresses the customer: 张先生, 王女士;
"客户" when the customer is unknown), ``{agent_name}`` and ``{employee_no}`` (the
agent sending). They are replaced literally; other braces in a text stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from crm_backend.customers.service import salutation
from crm_backend.models import Agent, CannedReply, Customer, Team

SEARCH_MAX = 50
UNKNOWN_CUSTOMER = "客户"

# (team code or None for everyone, title, shortcut, text)
DEFAULT_REPLIES: tuple[tuple[str | None, str, str, str], ...] = (
    (
        None,
        "接入问候",
        "hi",
        "{customer_name}您好，我是客服{agent_name}（工号{employee_no}），很高兴为您服务，请问有什么可以帮您？",
    ),
    (
        None,
        "请稍候",
        "wait",
        "{customer_name}，我正在为您查询，大约需要1-2分钟，请您稍候。",
    ),
    (
        None,
        "核实身份",
        "verify",
        "为保障您的账户安全，麻烦{customer_name}提供一下投保人手机号码及身份证号后四位，我为您核实身份。",
    ),
    (
        None,
        "致歉安抚",
        "sorry",
        "非常抱歉给{customer_name}带来不便，您的心情我完全理解，我会尽全力帮您处理好这件事。",
    ),
    (
        None,
        "已记录反馈",
        "noted",
        "您反映的情况我已经详细记录，会尽快反馈给相关部门处理，处理结果会第一时间通知您。",
    ),
    (None, "结束确认", "more", "请问{customer_name}还有其他需要帮助的吗？"),
    (
        None,
        "结束语",
        "bye",
        "感谢{customer_name}的耐心，稍后智能助理会邀请您为本次服务评分，祝您生活愉快！",
    ),
    (
        None,
        "宽限期说明",
        "grace",
        "{customer_name}，保单在应缴日后有60天宽限期，宽限期内保障继续有效，请在宽限期结束前完成缴费，以免保单效力中止。",
    ),
    (
        None,
        "更换扣款账户",
        "card",
        "更换扣款银行卡需要先通过短信验证码验证，验证后可在对话中直接办理，也可以通过官方App“我的保单-缴费账户”自助变更。",
    ),
    (
        None,
        "理赔材料",
        "claimdocs",
        "申请理赔一般需要：理赔申请书、被保险人身份证件、银行卡、病历及诊断证明、医疗费用发票和费用清单，{customer_name}可以拍照通过官方App上传。",
    ),
    (
        None,
        "理赔进度",
        "claim",
        "您的理赔案件正在审核中，材料齐全后一般10个工作日内给出结论，我已为您备注加急，有进展会短信通知您。",
    ),
    (
        None,
        "犹豫期说明",
        "hesitation",
        "新保单签收后有15天犹豫期，犹豫期内退保可退还全部已交保费（扣除不超过10元的工本费）。",
    ),
    (
        None,
        "回电安排",
        "callback",
        "{customer_name}，我已为您登记回电，专属服务人员会在工作时间内尽快与您电话联系，请保持手机畅通。",
    ),
    (
        "vip",
        "VIP专属问候",
        "vip",
        "尊敬的{customer_name}，我是您的专属客户经理{agent_name}，很高兴再次为您服务。",
    ),
    (
        "vip",
        "VIP绿色通道",
        "fasttrack",
        "{customer_name}，作为我们的VIP客户，您的申请已进入绿色通道，我会全程跟进并及时向您反馈。",
    ),
    (
        "retention",
        "保单贷款方案",
        "loan",
        "如果近期资金紧张，{customer_name}可以申请保单贷款，最高可借现金价值的80%，先缴纳本期保费，保障不受影响。",
    ),
    (
        "retention",
        "退保挽留",
        "keep",
        "{customer_name}，退保会损失部分已交保费，保障也会立即终止。我们还可以为您办理减额缴清或调整缴费方式，要不要我为您算一下？",
    ),
    (
        "complaints",
        "投诉受理",
        "ticket",
        "{customer_name}，您的投诉我们已正式受理，会在1个工作日内与您联系确认，15个工作日内给出处理结果。",
    ),
    (
        "complaints",
        "投诉升级",
        "escalate",
        "非常抱歉让{customer_name}久等了，我已将您的问题升级给主管处理，今天之内会给您明确答复。",
    ),
)


def seed(session: Session) -> int:
    """Add the standard replies that are missing (matched by team and shortcut);
    team replies only where the team exists. Returns how many were added."""
    team_ids = {
        code: team_id for code, team_id in session.execute(select(Team.code, Team.id))
    }
    existing = set(session.execute(select(CannedReply.team_id, CannedReply.shortcut)))
    added = 0
    for team_code, title, shortcut, text in DEFAULT_REPLIES:
        if team_code is not None and team_code not in team_ids:
            continue
        team_id = team_ids[team_code] if team_code is not None else None
        if (team_id, shortcut) in existing:
            continue
        session.add(
            CannedReply(team_id=team_id, title=title, shortcut=shortcut, text=text)
        )
        added += 1
    session.flush()
    return added


def fill(text: str, variables: Mapping[str, str]) -> str:
    """Replace ``{name}`` for each variable given; nothing else is interpreted."""
    for name, value in variables.items():
        text = text.replace("{" + name + "}", value)
    return text


def variables(customer: Customer | None, agent: Agent) -> dict[str, str]:
    """The values of the variables for this customer and agent."""
    return {
        "customer_name": salutation(customer) if customer else UNKNOWN_CUSTOMER,
        "agent_name": agent.name,
        "employee_no": agent.employee_no,
    }


def search(
    session: Session, *, agent: Agent, q: str | None = None, limit: int = SEARCH_MAX
) -> list[CannedReply]:
    """Replies for everyone and for the agent's team, matching ``q`` in the title,
    shortcut or text; shortcut matches first."""
    teams: list[ColumnElement[bool]] = [CannedReply.team_id.is_(None)]
    if agent.team_id is not None:
        teams.append(CannedReply.team_id == agent.team_id)
    query = select(CannedReply).where(or_(*teams))
    needle = (q or "").strip().lstrip("/")
    if needle:
        query = query.where(
            or_(
                CannedReply.shortcut.startswith(needle, autoescape=True),
                CannedReply.title.contains(needle, autoescape=True),
                CannedReply.text.contains(needle, autoescape=True),
            )
        )
    rows = list(
        session.scalars(
            query.order_by(CannedReply.team_id.is_(None), CannedReply.id).limit(limit)
        )
    )
    if needle:
        rows.sort(key=lambda r: not r.shortcut.startswith(needle))
    return rows
