"""Chinese texts of the demo book: claim notes, complaints, chat transcripts."""

from __future__ import annotations

from crm_backend.models.enums import ClaimType, TicketCategory

CLAIM_DOCUMENTS: dict[ClaimType, tuple[str, ...]] = {
    ClaimType.medical: (
        "出院小结（加盖医院公章）",
        "住院费用明细清单",
        "医疗费用发票原件",
        "门诊病历复印件",
    ),
    ClaimType.critical_illness: (
        "病理检查报告",
        "诊断证明书",
        "出院小结",
        "影像学检查报告",
    ),
    ClaimType.accident: ("意外事故证明", "门急诊病历", "医疗费用发票原件"),
    ClaimType.disability: ("伤残鉴定报告", "意外事故证明", "身份证复印件"),
    ClaimType.hospital_allowance: ("出院小结", "住院天数证明"),
    ClaimType.death: ("死亡证明", "户籍注销证明", "受益人身份证明"),
}
CLAIM_REJECTIONS: dict[ClaimType, tuple[str, ...]] = {
    ClaimType.medical: (
        "本次医疗费用扣除社保报销后未超过年度免赔额1万元",
        "疾病确诊时间在30天等待期内，不属于保险责任",
        "所患疾病为投保前已患疾病且投保时未如实告知",
    ),
    ClaimType.critical_illness: (
        "所患疾病不符合合同约定的重大疾病定义",
        "确诊时间在90天等待期内，按约定退还已交保险费，合同终止",
    ),
    ClaimType.accident: (
        "事故由疾病引起，不属于意外伤害保险责任",
        "事故发生时被保险人酒后驾驶机动车，属于责任免除",
    ),
    ClaimType.disability: ("伤残等级未达到合同约定的给付标准",),
    ClaimType.hospital_allowance: ("实际住院天数未超过3天免赔天数",),
    ClaimType.death: ("自合同成立之日起2年内自杀，属于责任免除",),
}

# (description, desired outcome, outcome once resolved)
COMPLAINTS: dict[TicketCategory, tuple[tuple[str, str, str], ...]] = {
    TicketCategory.service_attitude: (
        (
            "客服电话打了三次都没人接，好不容易接通了，坐席态度还很敷衍。",
            "希望相关人员道歉并改进服务",
            "已向客户致歉，涉事坐席已接受服务规范再培训并纳入绩效考核。",
        ),
        (
            "业务员上门办理业务时态度恶劣，说话很不客气。",
            "要求更换业务员",
            "已向客户致歉并为客户更换服务业务员，客户表示认可。",
        ),
    ),
    TicketCategory.claim_dispute: (
        (
            "住院的理赔申请已经一个多月了还没有结果，每次打电话都说还在审核。",
            "尽快完成理赔",
            "已协调理赔部门加急审核，案件已结案并完成赔付。",
        ),
        (
            "理赔被拒了，理由说是既往症，但我投保时已经如实告知了。",
            "要求重新审核并全额赔付",
            "经复核投保告知记录，撤销原拒赔决定，已按合同约定赔付。",
        ),
        (
            "理赔金额比预计少了很多，也没有解释清楚扣除的原因。",
            "要求说明扣减原因并补足赔款",
            "已向客户逐项解释免赔额及社保报销部分的计算方式，客户表示理解。",
        ),
    ),
    TicketCategory.sales_misconduct: (
        (
            "当初业务员说这个产品三年就能回本，现在想退保才发现只能退很少的钱。",
            "要求全额退还已交保费",
            "经调查销售过程录音录像，已向客户解释现金价值规则，协商后为客户办理保单贷款。",
        ),
        (
            "业务员说是存款产品，没说是保险，也没告诉我有犹豫期。",
            "要求解除合同并退还全部保费",
            "经核实存在销售误导，已为客户解除合同并全额退还保费，涉事人员已被处理。",
        ),
    ),
    TicketCategory.billing: (
        (
            "这个月的保费被重复扣了两次款。",
            "退还多扣的保费",
            "经核实确为系统重复扣款，多扣款项已原路退回客户账户。",
        ),
        (
            "我已经申请停止自动扣款，银行卡还是被扣了钱。",
            "退款并停止自动扣款",
            "已停止该保单的自动扣款并退还本期款项，客户改为自行缴费。",
        ),
        (
            "扣款失败了也没有任何短信通知，结果保单进入了宽限期。",
            "恢复保单正常状态并改进通知",
            "客户已补缴保费，保单恢复有效；已修复短信通知问题。",
        ),
    ),
    TicketCategory.policy_service: (
        (
            "申请变更受益人已经两周了，还没有办理完成。",
            "尽快办理",
            "已加急办理受益人变更并向客户发送批单。",
        ),
        (
            "保单贷款申请被退回了三次，每次要的材料都不一样。",
            "一次性告知所需材料并尽快放款",
            "已向客户一次性说明所需材料，贷款已于次日放款。",
        ),
        (
            "更改了联系电话以后还是收不到保单通知短信。",
            "更正联系方式",
            "已核实并更正客户联系方式，测试短信已送达。",
        ),
    ),
    TicketCategory.product: (
        (
            "医疗险续保的保费涨了很多，事先没有任何说明。",
            "解释涨价原因",
            "已向客户说明续保费率随年龄调整的规则，并介绍了其他可选方案。",
        ),
        (
            "万能账户的结算利率一直在下调，和当初宣传的差距很大。",
            "说明利率调整依据",
            "已向客户说明保证利率与结算利率的区别及公告渠道，客户表示理解。",
        ),
    ),
    TicketCategory.other: (
        (
            "公众号里查不到我的保单信息。",
            "尽快修复",
            "已为客户完成公众号身份绑定，可正常查询保单。",
        ),
        (
            "纸质保单丢失了，申请补发等了很久都没收到。",
            "尽快补发保单",
            "已为客户补发纸质保单并提供电子保单下载方式。",
        ),
    ),
}

# Chat transcripts by topic: (sender, text, sentiment, intent). Sentiment is only for
# the customer's messages; the generator adds a little noise to it.
SCRIPTS: dict[str, tuple[tuple[str, str, float | None, str | None], ...]] = {
    "policy": (
        ("customer", "你好", 0.2, "greet"),
        ("bot", "您好，我是智能客服小康，请问有什么可以帮您？", None, None),
        ("customer", "我想查一下我的保单保额和保障期限", 0.1, "ask_policy"),
        (
            "bot",
            "已为您查询到名下保单，保单状态、保额及保障期限如下，请查看。",
            None,
            None,
        ),
        ("customer", "好的，谢谢", 0.6, "thank"),
    ),
    "premium": (
        ("customer", "下一期保费什么时候交？要交多少", 0.0, "ask_premium"),
        (
            "bot",
            "您的下一期保费将于到期日从您绑定的银行卡自动扣款，请确保账户余额充足。",
            None,
            None,
        ),
        ("customer", "明白了", 0.3, "affirm"),
    ),
    "claim": (
        ("customer", "我上个月住院的理赔到哪一步了", -0.1, "ask_claim_status"),
        (
            "bot",
            "您的理赔案件目前正在审核中，审核完成后将第一时间短信通知您。",
            None,
            None,
        ),
        ("customer", "还要多久啊，都等了好几周了", -0.4, "ask_claim_status"),
        (
            "bot",
            "理解您的心情。材料齐全后一般10个工作日内完成审核，我已为您催办。",
            None,
            None,
        ),
    ),
    "faq": (
        ("customer", "宽限期是多久", 0.0, "faq"),
        (
            "bot",
            "分期缴费的保单，自应缴日起有60天宽限期，宽限期内发生保险事故仍可理赔。",
            None,
            None,
        ),
        ("customer", "那犹豫期呢", 0.0, "faq"),
        (
            "bot",
            "犹豫期一般为签收保单后15天（银行渠道为20天），期间退保可退还全部保费。",
            None,
            None,
        ),
    ),
    "payment_failed": (
        ("customer", "为什么这个月保费扣款失败了", -0.3, "payment_failed"),
        (
            "bot",
            "本次扣款失败的原因是银行卡余额不足。您可以充值后等待系统再次扣款，或通过微信支付补缴。",
            None,
            None,
        ),
        ("customer", "好的我去充钱", 0.1, "affirm"),
    ),
    "payment_difficulty": (
        (
            "customer",
            "最近手头紧，保费实在交不上了，能缓一缓吗",
            -0.5,
            "payment_difficulty",
        ),
        (
            "bot",
            "理解您的情况。您的保单有60天宽限期，也可以考虑保单贷款、变更缴费频率或减额缴清。需要为您转接专员详细说明吗？",
            None,
            None,
        ),
        ("customer", "好，转人工吧", -0.2, "affirm"),
    ),
    "surrender": (
        ("customer", "我想退保，能退多少钱", -0.4, "cancel_policy"),
        (
            "bot",
            "退保将按保单现金价值退还，通常低于已交保费，保障也会终止。我为您转接专属顾问，帮您看看有没有更合适的方案。",
            None,
            None,
        ),
        ("customer", "嗯", -0.2, "affirm"),
    ),
    "complaint": (
        (
            "customer",
            "你们的理赔也太慢了吧！一个多月都没消息，我要投诉！",
            -0.85,
            "complain",
        ),
        (
            "bot",
            "非常抱歉给您带来不好的体验。我已记录您的投诉并生成工单，同时为您转接投诉专员。",
            None,
            None,
        ),
        ("customer", "赶紧处理，别再拖了", -0.7, "complain"),
    ),
    "human": (
        ("customer", "转人工", -0.2, "request_human"),
        ("bot", "好的，正在为您转接人工客服，请稍候。", None, None),
    ),
}
# topic -> (weight among bot conversations, escalation topic or None)
TOPICS: tuple[tuple[str, int], ...] = (
    ("policy", 22),
    ("premium", 16),
    ("claim", 12),
    ("faq", 18),
    ("payment_failed", 8),
    ("payment_difficulty", 6),
    ("surrender", 5),
    ("complaint", 5),
    ("human", 8),
)
AGENT_GREETING = "您好，我是{name}，很高兴为您服务。您的情况我已经了解，马上为您处理。"
AGENT_REPLIES: dict[str, str] = {
    "payment_difficulty": (
        "可以为您办理保单贷款先缴纳本期保费，保障不受影响，我把办理方式发给您。"
    ),
    "surrender": "退保会损失较多现金价值，建议您考虑减额缴清或保单贷款，我给您算一下。",
    "complaint": (
        "您的投诉已加急处理，理赔部门会在2个工作日内给您回复，工单号已短信发送给您。"
    ),
    "human": "您反映的问题已经处理好了，还有其他可以帮您的吗？",
    "general": "您反映的问题已经处理好了，还有其他可以帮您的吗？",
}
CSAT_PROMPT = "本次服务已结束，请您对我们的服务打分（1-5分）。"
