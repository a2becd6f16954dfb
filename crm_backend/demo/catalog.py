"""The demo book's fixed cast: teams, named agents and the documented demo customers.

Every demo agent logs in with their employee number and ``DEMO_PASSWORD``. The demo
customers are generated first (customer ids 1..6 on an empty database) and verify with
the phone number plus the last 4 characters of the ID number, or the policy number
plus the birth date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from crm_backend.models.enums import AgentRole, Gender, Presence

DEMO_PASSWORD = "demo1234"
DEFAULT_SEED = 20261125


@dataclass(frozen=True)
class TeamSpec:
    """A desk: code, Chinese name and the queue topics it takes."""

    code: str
    name: str
    topics: tuple[str, ...]


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec("vip", "VIP客户服务部", ("vip",)),
    TeamSpec("retention", "客户挽留组", ("retention",)),
    TeamSpec("complaints", "投诉处理组", ("complaints",)),
    TeamSpec("general", "综合客服组", ("general",)),
    TeamSpec("sales_east", "华东区营销服务部", ("sales",)),
    TeamSpec("sales_south", "华南区营销服务部", ("sales",)),
    TeamSpec("sales_north", "华北及东北区营销服务部", ("sales",)),
    TeamSpec("sales_west", "中西部营销服务部", ("sales",)),
)
SALES_TEAMS = tuple(t.code for t in TEAMS if t.code.startswith("sales_"))


@dataclass(frozen=True)
class AgentSpec:
    """A named agent of the demo insurer."""

    employee_no: str
    name: str
    team: str
    role: AgentRole
    presence: Presence
    capacity: int
    skills: tuple[str, ...]
    departed: bool = False


# employee no., name, team, role, presence, capacity, skills; "*" marks the departed one
_AGENT_TABLE = """
KN1001 何静怡 vip        supervisor      online  5 vip,annuity,universal
KN1002 陈思远 vip        account_manager online  4 vip,annuity,universal,english
KN1003 林嘉欣 vip        account_manager online  4 vip,critical_illness,cantonese
KN1004 郭子豪 vip        account_manager away    4 vip,universal
KN1005 罗雅琴 vip        account_manager offline 3 vip,annuity
KN1011 马丽娟 retention  supervisor      online  5 retention,policy_loan
KN1012 胡志刚 retention  retention       online  4 retention,billing,policy_loan
KN1013 高婷婷 retention  retention       away    4 retention,billing
KN1014 梁晓峰 retention  retention       offline 3 retention,policy_loan
KN1021 宋建华 complaints supervisor      online  5 complaints,claims
KN1022 唐慧   complaints service_agent   online  4 complaints,claims,billing
KN1023 许文博 complaints service_agent   online  4 complaints,sales_misconduct
KN1024 韩雪   complaints service_agent   away    3 complaints,policy_service
KN1025 冯磊   complaints service_agent   offline 3 complaints,claims
KN1031 曹丽华 general    supervisor      online  5 general
KN1032 彭佳   general    service_agent   online  5 general,claims
KN1033 曾小燕 general    service_agent   online  5 general,policy_service,cantonese
KN1034 董浩   general    service_agent   away    4 general,billing
KN1035 袁梦   general    service_agent   offline 4 general,claims
KN1036 蒋欣然 general    service_agent   online  4 general,english
KN1041 王建国 sales_east  supervisor      online  5 sales
KN1042 李娜   sales_east  sales_agent     online  4 sales,critical_illness
KN1043 张晓东 sales_east  sales_agent     offline 4 sales,medical
KN1044 刘婷   sales_east  sales_agent     away    3 sales,critical_illness
KN1045 徐明   sales_east  account_manager online  4 sales,annuity,universal
KN1046 朱静   sales_east  account_manager offline 4 sales,annuity
KN1051 黄志强 sales_south supervisor      online  5 sales,cantonese
KN1052 杨秀梅 sales_south sales_agent     online  4 sales,cantonese
KN1053 吴俊杰 sales_south sales_agent     offline 4 sales,cantonese,medical
KN1054 周丽   sales_south sales_agent     away    3 sales,critical_illness
KN1055 谢伟   sales_south account_manager online  4 sales,annuity,universal
KN1061 赵国庆 sales_north supervisor      away    5 sales
KN1062 孙艳   sales_north sales_agent     online  4 sales,critical_illness
KN1063 钱磊   sales_north sales_agent     offline 4 sales,accident
KN1064 郑红梅 sales_north sales_agent     online  3 sales,medical
KN1065 孔德华 sales_north account_manager offline 4 sales,annuity
KN1071 邓志军 sales_west  supervisor      online  5 sales
KN1072 余建国 sales_west  sales_agent     offline 4 sales,critical_illness *
KN1073 肖芳   sales_west  sales_agent     online  4 sales,medical
KN1074 田宇   sales_west  sales_agent     offline 4 sales,critical_illness
KN1075 潘丽   sales_west  sales_agent     away    3 sales,accident
KN1076 杜鹏   sales_west  account_manager online  4 sales,annuity,universal
"""


def _parse_agents(table: str) -> tuple[AgentSpec, ...]:
    agents = []
    for line in table.strip().splitlines():
        number, name, team, role, presence, capacity, skills, *mark = line.split()
        agents.append(
            AgentSpec(
                employee_no=number,
                name=name,
                team=team,
                role=AgentRole(role),
                presence=Presence(presence),
                capacity=int(capacity),
                skills=tuple(skills.split(",")),
                departed=mark == ["*"],
            )
        )
    return tuple(agents)


AGENTS = _parse_agents(_AGENT_TABLE)
DEPARTED_AGENT = next(a for a in AGENTS if a.departed)
# days before the "as of" date that the departed agent left
DEPARTED_DAYS_AGO = 10


@dataclass(frozen=True)
class DemoCustomer:
    """A documented demo customer and what they show."""

    key: str
    name: str
    gender: Gender
    birth_date: date
    id_number: str
    phone: str
    province: str
    city: str
    district_code: str
    policy_no: str
    agent: str  # employee number of the servicing agent
    shows: str

    @property
    def id_last4(self) -> str:
        """The last 4 characters of the ID number (the bot's second factor)."""
        return self.id_number[-4:]


DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer(
        key="ordinary",
        name="张伟",
        gender=Gender.male,
        birth_date=date(1986, 4, 12),
        id_number="310104198604122739",
        phone="13800138001",
        province="上海",
        city="上海",
        district_code="310104",
        policy_no="P3100000000001",
        agent="KN1042",
        shows=(
            "Ordinary customer: critical-illness and medical policies in force, next "
            "premium due, a paid medical claim; named agent 李娜 (online)"
        ),
    ),
    DemoCustomer(
        key="vip",
        name="林慧敏",
        gender=Gender.female,
        birth_date=date(1972, 9, 3),
        id_number="440305197209031249",
        phone="13800138002",
        province="广东",
        city="深圳",
        district_code="440305",
        policy_no="P4400000000003",
        agent="KN1002",
        shows=(
            "VIP (annuity, universal life, critical illness: > ¥200,000 a year); "
            "named account manager 陈思远 of the VIP desk is online"
        ),
    ),
    DemoCustomer(
        key="overdue",
        name="赵磊",
        gender=Gender.male,
        birth_date=date(1990, 11, 18),
        id_number="410105199011183557",
        phone="13800138003",
        province="河南",
        city="郑州",
        district_code="410105",
        policy_no="P4100000000006",
        agent="KN1073",
        shows=(
            "Overdue premium: bill 20 days past due after two failed debits "
            "(insufficient funds), policy in its 60-day grace period (40 days left); "
            "medium churn risk, and saying he cannot pay (保费交不起了) makes it high: "
            "the bot escalates to retention (his own agent 肖芳 first)"
        ),
    ),
    DemoCustomer(
        key="open_claim",
        name="孙丽",
        gender=Gender.female,
        birth_date=date(1981, 2, 27),
        id_number="510107198102271861",
        phone="13800138004",
        province="四川",
        city="成都",
        district_code="510107",
        policy_no="P5100000000007",
        agent="KN1074",
        shows=(
            "Open claim: a ¥36,800 hospital claim under review with a document still "
            "pending, and its timeline"
        ),
    ),
    DemoCustomer(
        key="open_complaint",
        name="周强",
        gender=Gender.male,
        birth_date=date(1978, 7, 8),
        id_number="320106197807084138",
        phone="13800138005",
        province="江苏",
        city="南京",
        district_code="320106",
        policy_no="P3200000000009",
        agent="KN1043",
        shows=(
            "Open complaint: a double-debit billing complaint being investigated, "
            "with its acknowledgement and resolution deadlines"
        ),
    ),
    DemoCustomer(
        key="agent_left",
        name="吴秀英",
        gender=Gender.female,
        birth_date=date(1965, 12, 1),
        id_number="420106196512012427",
        phone="13800138006",
        province="湖北",
        city="武汉",
        district_code="420106",
        policy_no="P4200000000010",
        agent=DEPARTED_AGENT.employee_no,
        shows=(
            "Agent left: still assigned to 余建国, who departed 10 days ago "
            "(not yet reassigned by a supervisor); whole-life and endowment policies"
        ),
    ),
)
DEMO_PHONES = frozenset(c.phone for c in DEMO_CUSTOMERS)
DEMO_ID_NUMBERS = frozenset(c.id_number for c in DEMO_CUSTOMERS)


def demo_customers_markdown() -> str:
    """The demo customers as a markdown table (pasted into the README)."""
    lines = [
        "| # | customer | phone | ID last 4 | policy no. | birth date | shows |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, c in enumerate(DEMO_CUSTOMERS, start=1):
        lines.append(
            f"| {number} | {c.name} | {c.phone} | {c.id_last4} | {c.policy_no} "
            f"| {c.birth_date.isoformat()} | {c.shows} |"
        )
    return "\n".join(lines)
