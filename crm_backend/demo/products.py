"""The demo insurer's product shelf: real-sounding Chinese products of every type."""

from __future__ import annotations

from dataclasses import dataclass

from crm_backend.models.enums import PaymentFrequency, ProductType

_STANDARD_EXCLUSIONS = (
    "因下列情形之一导致被保险人发生保险事故的，本公司不承担保险责任："
    "1. 投保人对被保险人的故意杀害、故意伤害；"
    "2. 被保险人故意犯罪或者抗拒依法采取的刑事强制措施；"
    "3. 被保险人故意自伤，或自本合同成立或者合同效力恢复之日起2年内自杀，"
    "但被保险人自杀时为无民事行为能力人的除外；"
    "4. 被保险人服用、吸食或注射毒品；"
    "5. 被保险人酒后驾驶、无合法有效驾驶证驾驶，或驾驶无有效行驶证的机动车；"
    "6. 战争、军事冲突、暴乱或武装叛乱；"
    "7. 核爆炸、核辐射或核污染。"
)
_CI_EXCLUSIONS = (
    _STANDARD_EXCLUSIONS
    + "此外，被保险人感染艾滋病病毒或患艾滋病（合同另有约定的除外），"
    "以及遗传性疾病、先天性畸形、变形或染色体异常，不在重大疾病保险责任范围内。"
)
_MEDICAL_EXCLUSIONS = (
    "下列费用或情形不在保障范围内：1. 等待期内发生的疾病及其并发症；"
    "2. 投保前已患且未如实告知的既往症；3. 美容、整形、矫形、变性手术，"
    "牙齿治疗及镶补（因意外所致除外）；4. 不孕不育治疗、人工受孕、怀孕、分娩、避孕；"
    "5. 康复治疗、疗养、健康体检；6. 非医保定点医院或非二级及以上公立医院普通部的费用；"
    "7. 酒后驾驶、毒品、故意自伤、战争、核辐射等情形。"
)
_ACCIDENT_EXCLUSIONS = (
    _STANDARD_EXCLUSIONS
    + "此外，被保险人从事潜水、跳伞、攀岩、蹦极、赛车、探险等高风险运动，"
    "或因疾病、妊娠、流产、分娩、药物过敏、医疗事故导致的伤害，不属于意外伤害保险责任。"
)


@dataclass(frozen=True)
class ProductSpec:
    """One product as the demo sells it: catalogue row plus pricing hints."""

    code: str
    name: str
    type: ProductType
    coverage: str
    exclusions: str
    waiting_period_days: int
    term_years: int | None
    allows_policy_loan: bool
    payment_years: tuple[int, ...]
    frequencies: tuple[PaymentFrequency, ...]
    hesitation_period_days: int = 15
    grace_period_days: int = 60
    policy_loan_ratio_pct: int = 80
    # how the generator prices it: "ci", "term_life", "savings", "medical", "accident"
    pricing: str = "savings"
    savings: bool = False  # cash value grows with the years in force


_A = PaymentFrequency.annual
_M = PaymentFrequency.monthly
_S = PaymentFrequency.semiannual
_Q = PaymentFrequency.quarterly
_1 = PaymentFrequency.single

PRODUCTS: tuple[ProductSpec, ...] = (
    ProductSpec(
        code="CI001",
        name="康宁终身重大疾病保险",
        type=ProductType.critical_illness,
        coverage=(
            "保险期间为终身。1. 重大疾病保险金：被保险人于等待期后初次确诊合同约定的"
            "120种重大疾病之一，按基本保险金额给付，本合同终止。2. 中症疾病保险金：确诊"
            "合同约定的25种中症疾病，按基本保险金额的60%给付，限给付一次。"
            "3. 轻症疾病保险金："
            "确诊合同约定的50种轻症疾病，按基本保险金额的30%给付，最多给付三次。"
            "4. 身故保险金：18周岁后身故，按基本保险金额给付。5. 保费豁免："
            "确诊轻症或中症"
            "疾病后，豁免以后各期保险费，合同继续有效。等待期90天，"
            "等待期内确诊的退还已交"
            "保险费，合同终止。"
        ),
        exclusions=_CI_EXCLUSIONS,
        waiting_period_days=90,
        term_years=None,
        allows_policy_loan=True,
        payment_years=(10, 20, 30),
        frequencies=(_A, _A, _A, _A, _M, _S),
        pricing="ci",
        savings=True,
    ),
    ProductSpec(
        code="CI002",
        name="康惠多倍保重大疾病保险",
        type=ProductType.critical_illness,
        coverage=(
            "保险期间为终身。重大疾病保险金可多次给付：合同约定的110种重大疾病分为5组，"
            "每组限给付一次，每次按基本保险金额给付，两次给付间隔期为365天。"
            "轻症疾病按基本保险金额的30%给付，最多三次；确诊轻症后豁免以后各期保险费。"
            "60周岁前首次确诊重大疾病的，额外给付基本保险金额的50%。等待期90天。"
        ),
        exclusions=_CI_EXCLUSIONS,
        waiting_period_days=90,
        term_years=None,
        allows_policy_loan=True,
        payment_years=(20, 30),
        frequencies=(_A, _A, _A, _M),
        pricing="ci",
        savings=True,
    ),
    ProductSpec(
        code="CI003",
        name="守护宝定期重大疾病保险",
        type=ProductType.critical_illness,
        coverage=(
            "保险期间20年。被保险人于等待期后初次确诊合同约定的100种重大疾病之一，"
            "按基本保险金额给付重大疾病保险金，本合同终止；确诊合同约定的轻症疾病，"
            "按基本保险金额的25%给付，最多两次。本产品为消费型保障，无现金价值增长，"
            "不提供保单贷款。等待期90天。"
        ),
        exclusions=_CI_EXCLUSIONS,
        waiting_period_days=90,
        term_years=20,
        allows_policy_loan=False,
        payment_years=(20,),
        frequencies=(_A, _A, _M),
        pricing="ci_term",
    ),
    ProductSpec(
        code="LF001",
        name="福满堂终身寿险",
        type=ProductType.life,
        coverage=(
            "保险期间为终身，有效保险金额自第二个保单年度起按3.0%复利递增。"
            "1. 身故或全残保险金：18周岁后身故或全残，按身故当时的有效保险金额、"
            "已交保险费的160%（41周岁以下）或120%（41至60周岁）或100%（61周岁以上）"
            "与现金价值三者之较大者给付。2. 可申请减少基本保险金额（减保）领取部分现金"
            "价值，"
            "用于养老、教育等资金安排。合同生效满两年后可按现金价值的80%申请保单贷款。"
        ),
        exclusions=_STANDARD_EXCLUSIONS,
        waiting_period_days=0,
        term_years=None,
        allows_policy_loan=True,
        payment_years=(3, 5, 10, 20),
        frequencies=(_A,),
        pricing="savings",
        savings=True,
    ),
    ProductSpec(
        code="LF002",
        name="安心定期寿险",
        type=ProductType.life,
        coverage=(
            "保险期间20年。被保险人身故或全残，按基本保险金额给付身故或全残保险金，"
            "本合同终止。适合家庭经济支柱转移房贷、子女教育等责任风险。"
            "本产品无现金价值增长，不提供保单贷款。"
        ),
        exclusions=_STANDARD_EXCLUSIONS,
        waiting_period_days=90,
        term_years=20,
        allows_policy_loan=False,
        payment_years=(20,),
        frequencies=(_A,),
        pricing="term_life",
    ),
    ProductSpec(
        code="LF003",
        name="鸿运两全保险（分红型）",
        type=ProductType.life,
        coverage=(
            "保险期间10年。1. 满期保险金：被保险人生存至保险期间届满，"
            "按基本保险金额给付。"
            "2. 身故保险金：保险期间内身故，按已交保险费的110%与现金价值之较大者给付。"
            "3. 红利：本公司每年根据分红保险业务的实际经营状况确定红利分配，"
            "红利分配不保证。"
            "可申请保单贷款。"
        ),
        exclusions=_STANDARD_EXCLUSIONS,
        waiting_period_days=0,
        term_years=10,
        allows_policy_loan=True,
        payment_years=(3, 5, 10),
        frequencies=(_A,),
        pricing="savings",
        savings=True,
    ),
    ProductSpec(
        code="MD001",
        name="康宁百万医疗保险",
        type=ProductType.medical,
        coverage=(
            "保险期间1年，可续保。一般医疗保险金：住院医疗、特殊门诊、门诊手术、"
            "住院前后30天门急诊费用，年度限额200万元，年免赔额1万元；"
            "重大疾病医疗保险金：确诊重大疾病后的医疗费用，年度限额400万元，0免赔。"
            "社保报销后按100%赔付，未经社保报销按60%赔付。等待期30天（续保无等待期）。"
        ),
        exclusions=_MEDICAL_EXCLUSIONS,
        waiting_period_days=30,
        term_years=1,
        allows_policy_loan=False,
        payment_years=(1,),
        frequencies=(_A, _A, _M),
        pricing="medical",
    ),
    ProductSpec(
        code="MD002",
        name="尊享高端医疗保险",
        type=ProductType.medical,
        coverage=(
            "保险期间1年。住院及门诊医疗费用（含公立医院特需部、国际部及私立医院），"
            "年度限额800万元，0免赔，100%赔付；提供直付服务、"
            "专家预约与海外二次诊疗意见。"
            "等待期30天。"
        ),
        exclusions=_MEDICAL_EXCLUSIONS,
        waiting_period_days=30,
        term_years=1,
        allows_policy_loan=False,
        payment_years=(1,),
        frequencies=(_A,),
        pricing="medical_high",
    ),
    ProductSpec(
        code="MD003",
        name="安康住院津贴医疗保险",
        type=ProductType.medical,
        coverage=(
            "保险期间1年。被保险人因疾病或意外住院，按每日住院津贴额（100至300元）"
            "乘以实际住院天数给付住院津贴保险金，免赔3天，每次住院最多给付90天，"
            "年度累计最多180天；入住重症监护室的，津贴加倍给付。"
            "等待期30天（意外无等待期）。"
        ),
        exclusions=_MEDICAL_EXCLUSIONS,
        waiting_period_days=30,
        term_years=1,
        allows_policy_loan=False,
        payment_years=(1,),
        frequencies=(_A,),
        pricing="allowance",
    ),
    ProductSpec(
        code="AC001",
        name="安行意外伤害保险",
        type=ProductType.accident,
        coverage=(
            "保险期间1年。1. 意外身故保险金：按基本保险金额给付。2. 意外伤残保险金："
            "按《人身保险伤残评定标准》对应比例乘以基本保险金额给付。"
            "3. 意外医疗保险金："
            "意外所致的医疗费用，免赔100元后按90%报销，限额5万元。"
            "4. 意外住院津贴每日100元。"
            "无等待期，次日零时生效。"
        ),
        exclusions=_ACCIDENT_EXCLUSIONS,
        waiting_period_days=0,
        term_years=1,
        allows_policy_loan=False,
        payment_years=(1,),
        frequencies=(_A,),
        pricing="accident",
    ),
    ProductSpec(
        code="AC002",
        name="畅行交通工具意外伤害保险",
        type=ProductType.accident,
        coverage=(
            "保险期间1年。以乘客身份乘坐民航班机意外身故或伤残最高赔付500万元，"
            "乘坐火车（含高铁、动车）、轮船最高100万元，乘坐营运汽车最高50万元，"
            "驾驶或乘坐私家车最高50万元；伤残按伤残等级比例给付。无等待期。"
        ),
        exclusions=_ACCIDENT_EXCLUSIONS,
        waiting_period_days=0,
        term_years=1,
        allows_policy_loan=False,
        payment_years=(1,),
        frequencies=(_A,),
        pricing="accident",
    ),
    ProductSpec(
        code="AN001",
        name="鑫享年金保险",
        type=ProductType.annuity,
        coverage=(
            "保险期间20年。1. 年金：自第五个保单周年日起，被保险人生存的，"
            "每年按基本保险"
            "金额的20%给付年金，直至保险期间届满。2. 满期保险金：保险期间届满时生存，"
            "按已交保险费给付。3. 身故保险金：按已交保险费与现金价值之较大者给付。"
            "年金可转入万能账户按不低于2.0%的保证利率累积生息。可申请保单贷款。"
        ),
        exclusions=_STANDARD_EXCLUSIONS,
        waiting_period_days=0,
        term_years=20,
        allows_policy_loan=True,
        payment_years=(3, 5, 10),
        frequencies=(_A,),
        pricing="savings",
        savings=True,
    ),
    ProductSpec(
        code="AN002",
        name="福寿安康养老年金保险",
        type=ProductType.annuity,
        coverage=(
            "保险期间为终身。自约定的养老年金开始领取日（60或65周岁）起，"
            "被保险人生存的，"
            "按年或按月领取养老年金，保证领取20年；身故时未领满保证领取期的，"
            "余额给付身故受益人。领取日前身故的，按已交保险费与现金价值之较大者给付。"
            "可申请保单贷款。符合条件的可享受个人养老金税收优惠。"
        ),
        exclusions=_STANDARD_EXCLUSIONS,
        waiting_period_days=0,
        term_years=None,
        allows_policy_loan=True,
        payment_years=(10, 20),
        frequencies=(_A, _A, _M),
        pricing="savings",
        savings=True,
    ),
    ProductSpec(
        code="AN003",
        name="稳盈年金保险（银保版）",
        type=ProductType.annuity,
        coverage=(
            "保险期间10年，趸交或3年交。自第一个保单周年日起每年按已交保险费的8%给付"
            "生存年金；保险期间届满生存，按已交保险费给付满期保险金；身故按已交保险费"
            "与现金价值之较大者给付。银行渠道销售，犹豫期20天。可申请保单贷款。"
        ),
        exclusions=_STANDARD_EXCLUSIONS,
        waiting_period_days=0,
        term_years=10,
        allows_policy_loan=True,
        payment_years=(1, 3),
        frequencies=(_1, _A),
        hesitation_period_days=20,
        pricing="savings",
        savings=True,
    ),
    ProductSpec(
        code="UL001",
        name="金福万能型终身寿险",
        type=ProductType.universal,
        coverage=(
            "保险期间为终身。保险费扣除初始费用后进入万能账户，保证利率2.0%，"
            "超出部分按公司每月公布的结算利率计息。身故保险金按基本保险金额与万能账户价"
            "值"
            "之较大者给付。可随时追加保险费、部分领取账户价值（前五年收取领取手续费），"
            "可申请保单贷款。"
        ),
        exclusions=_STANDARD_EXCLUSIONS,
        waiting_period_days=0,
        term_years=None,
        allows_policy_loan=True,
        payment_years=(1, 5, 10),
        frequencies=(_1, _A, _A),
        pricing="savings",
        savings=True,
    ),
    ProductSpec(
        code="UL002",
        name="添利宝万能型两全保险",
        type=ProductType.universal,
        coverage=(
            "保险期间15年。保险费扣除初始费用后进入万能账户，保证利率1.75%；"
            "满期时按万能账户价值给付满期保险金；身故按账户价值的105%给付。"
            "账户价值可部分领取，可申请保单贷款。"
        ),
        exclusions=_STANDARD_EXCLUSIONS,
        waiting_period_days=0,
        term_years=15,
        allows_policy_loan=True,
        payment_years=(1, 5),
        frequencies=(_1, _A),
        pricing="savings",
        savings=True,
    ),
)

PRODUCTS_BY_CODE = {p.code: p for p in PRODUCTS}


def product_row(spec: ProductSpec, product_id: int) -> dict[str, object]:
    """The ``products`` row of a spec."""
    return {
        "id": product_id,
        "code": spec.code,
        "name": spec.name,
        "type": spec.type,
        "coverage": spec.coverage,
        "exclusions": spec.exclusions,
        "waiting_period_days": spec.waiting_period_days,
        "hesitation_period_days": spec.hesitation_period_days,
        "grace_period_days": spec.grace_period_days,
        "term_years": spec.term_years,
        "allows_policy_loan": spec.allows_policy_loan,
        "policy_loan_ratio_pct": spec.policy_loan_ratio_pct,
    }
