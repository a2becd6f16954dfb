"""Where demo customers live and bank: provinces weighted by population, real
administrative codes (for ID numbers), banks with real card prefixes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    """A county-level area: its 6-digit administrative code and name."""

    code: str
    name: str


@dataclass(frozen=True)
class City:
    """A city of a province with a few of its districts."""

    name: str
    districts: tuple[District, ...]


@dataclass(frozen=True)
class Province:
    """A province: short name (the ``region`` column), full name, weight, cities."""

    short: str
    full: str
    population_m: int  # 2020 census, millions: the customer weight
    team: str  # the regional sales team serving it
    cities: tuple[City, ...]


def _c(name: str, *districts: str) -> City:
    return City(
        name,
        tuple(District(d.split(":")[0], d.split(":")[1]) for d in districts),
    )


PROVINCES: tuple[Province, ...] = (
    Province("广东", "广东省", 126, "sales_south", (
        _c("广州", "440103:荔湾区", "440104:越秀区", "440106:天河区"),
        _c("深圳", "440303:罗湖区", "440304:福田区", "440305:南山区"),
        _c("佛山", "440604:禅城区"),
        _c("东莞", "441900:东莞市"),
    )),
    Province("山东", "山东省", 101, "sales_east", (
        _c("济南", "370102:历下区", "370103:市中区"),
        _c("青岛", "370202:市南区", "370212:崂山区"),
        _c("烟台", "370602:芝罘区"),
        _c("临沂", "371302:兰山区"),
    )),
    Province("河南", "河南省", 99, "sales_west", (
        _c("郑州", "410102:中原区", "410105:金水区"),
        _c("洛阳", "410305:涧西区"),
        _c("南阳", "411302:宛城区"),
    )),
    Province("江苏", "江苏省", 85, "sales_east", (
        _c("南京", "320102:玄武区", "320106:鼓楼区"),
        _c("苏州", "320505:虎丘区", "320508:姑苏区"),
        _c("无锡", "320213:梁溪区"),
        _c("徐州", "320302:鼓楼区"),
    )),
    Province("四川", "四川省", 84, "sales_west", (
        _c("成都", "510104:锦江区", "510105:青羊区", "510107:武侯区"),
        _c("绵阳", "510703:涪城区"),
        _c("南充", "511302:顺庆区"),
    )),
    Province("河北", "河北省", 75, "sales_north", (
        _c("石家庄", "130102:长安区", "130104:桥西区"),
        _c("唐山", "130203:路北区"),
        _c("保定", "130602:竞秀区"),
    )),
    Province("湖南", "湖南省", 66, "sales_south", (
        _c("长沙", "430102:芙蓉区", "430104:岳麓区"),
        _c("株洲", "430202:荷塘区"),
        _c("衡阳", "430405:珠晖区"),
    )),
    Province("浙江", "浙江省", 65, "sales_east", (
        _c("杭州", "330102:上城区", "330106:西湖区"),
        _c("宁波", "330203:海曙区"),
        _c("温州", "330302:鹿城区"),
    )),
    Province("安徽", "安徽省", 61, "sales_east", (
        _c("合肥", "340102:瑶海区", "340104:蜀山区"),
        _c("芜湖", "340202:镜湖区"),
        _c("阜阳", "341202:颍州区"),
    )),
    Province("湖北", "湖北省", 58, "sales_west", (
        _c("武汉", "420102:江岸区", "420106:武昌区", "420111:洪山区"),
        _c("宜昌", "420502:西陵区"),
        _c("襄阳", "420602:襄城区"),
    )),
    Province("广西", "广西壮族自治区", 50, "sales_south", (
        _c("南宁", "450102:兴宁区", "450103:青秀区"),
        _c("柳州", "450202:城中区"),
        _c("桂林", "450302:秀峰区"),
    )),
    Province("云南", "云南省", 47, "sales_west", (
        _c("昆明", "530102:五华区", "530103:盘龙区"),
        _c("曲靖", "530302:麒麟区"),
    )),
    Province("江西", "江西省", 45, "sales_east", (
        _c("南昌", "360102:东湖区", "360111:青山湖区"),
        _c("赣州", "360702:章贡区"),
    )),
    Province("辽宁", "辽宁省", 43, "sales_north", (
        _c("沈阳", "210102:和平区", "210106:铁西区"),
        _c("大连", "210202:中山区", "210204:沙河口区"),
    )),
    Province("福建", "福建省", 41, "sales_east", (
        _c("福州", "350102:鼓楼区"),
        _c("厦门", "350203:思明区", "350206:湖里区"),
        _c("泉州", "350502:鲤城区"),
    )),
    Province("陕西", "陕西省", 40, "sales_west", (
        _c("西安", "610102:新城区", "610103:碑林区", "610113:雁塔区"),
        _c("宝鸡", "610302:渭滨区"),
    )),
    Province("贵州", "贵州省", 39, "sales_west", (
        _c("贵阳", "520102:南明区", "520103:云岩区"),
        _c("遵义", "520302:红花岗区"),
    )),
    Province("山西", "山西省", 35, "sales_north", (
        _c("太原", "140105:小店区", "140106:迎泽区"),
        _c("运城", "140802:盐湖区"),
    )),
    Province("重庆", "重庆市", 32, "sales_west", (
        _c("重庆", "500103:渝中区", "500106:沙坪坝区", "500112:渝北区"),
    )),
    Province("黑龙江", "黑龙江省", 32, "sales_north", (
        _c("哈尔滨", "230102:道里区", "230103:南岗区"),
        _c("大庆", "230602:萨尔图区"),
    )),
    Province("新疆", "新疆维吾尔自治区", 26, "sales_west", (
        _c("乌鲁木齐", "650102:天山区", "650103:沙依巴克区"),
    )),
    Province("甘肃", "甘肃省", 25, "sales_west", (
        _c("兰州", "620102:城关区"),
        _c("天水", "620502:秦州区"),
    )),
    Province("上海", "上海市", 25, "sales_east", (
        _c("上海", "310101:黄浦区", "310104:徐汇区", "310105:长宁区",
           "310112:闵行区", "310115:浦东新区"),
    )),
    Province("内蒙古", "内蒙古自治区", 24, "sales_north", (
        _c("呼和浩特", "150102:新城区", "150105:赛罕区"),
        _c("包头", "150203:昆都仑区"),
    )),
    Province("吉林", "吉林省", 24, "sales_north", (
        _c("长春", "220102:南关区", "220104:朝阳区"),
        _c("吉林", "220202:昌邑区"),
    )),
    Province("北京", "北京市", 22, "sales_north", (
        _c("北京", "110101:东城区", "110102:西城区", "110105:朝阳区",
           "110106:丰台区", "110108:海淀区"),
    )),
    Province("天津", "天津市", 14, "sales_north", (
        _c("天津", "120101:和平区", "120103:河西区", "120104:南开区"),
    )),
    Province("海南", "海南省", 10, "sales_south", (
        _c("海口", "460105:秀英区", "460106:龙华区"),
        _c("三亚", "460202:海棠区"),
    )),
    Province("宁夏", "宁夏回族自治区", 7, "sales_west", (
        _c("银川", "640104:兴庆区", "640106:金凤区"),
    )),
    Province("青海", "青海省", 6, "sales_west", (
        _c("西宁", "630102:城东区", "630104:城西区"),
    )),
    Province("西藏", "西藏自治区", 4, "sales_west", (
        _c("拉萨", "540102:城关区"),
    )),
)  # fmt: skip

PROVINCES_BY_SHORT = {p.short: p for p in PROVINCES}


@dataclass(frozen=True)
class Bank:
    """A bank, its debit-card prefix (BIN) and card length."""

    name: str
    bin: str
    length: int
    weight: int


BANKS: tuple[Bank, ...] = (
    Bank("工商银行", "622202", 19, 20),
    Bank("建设银行", "621700", 19, 18),
    Bank("农业银行", "622848", 19, 15),
    Bank("中国银行", "621661", 19, 12),
    Bank("招商银行", "622588", 16, 10),
    Bank("邮储银行", "621799", 19, 8),
    Bank("交通银行", "622260", 19, 7),
    Bank("兴业银行", "622909", 18, 4),
    Bank("浦发银行", "622521", 16, 3),
    Bank("中信银行", "622690", 16, 3),
)

# China Mobile, Unicom and Telecom mobile prefixes
PHONE_PREFIXES: tuple[str, ...] = (
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157",
    "158", "159", "178", "182", "183", "184", "187", "188", "198",
    "130", "131", "132", "155", "156", "166", "175", "176", "185", "186",
    "133", "153", "173", "177", "180", "181", "189", "199",
)  # fmt: skip

STREET_SUFFIXES = ("路", "路", "街", "大道", "大街")
ESTATES = (
    "阳光花园", "锦绣家园", "翠湖天地", "世纪新城", "金色港湾", "绿地国际花都",
    "万科城", "碧桂园", "保利花园", "幸福里", "和平小区", "华府名邸", "书香苑",
    "滨江花园", "长安小区", "紫荆苑", "丽景湾", "东方明珠苑", "新华里", "桃源居",
)  # fmt: skip
EMAIL_DOMAINS = (
    ("qq.com", 45), ("163.com", 20), ("126.com", 8), ("sina.com", 5),
    ("foxmail.com", 5), ("gmail.com", 4), ("outlook.com", 5), ("139.com", 8),
)  # fmt: skip

# (label, weight) by age band: under 35, 35-59, 60+
EDUCATION_BY_AGE: dict[str, tuple[tuple[str, int], ...]] = {
    "young": (("初中", 8), ("高中", 18), ("大专", 27), ("本科", 37),
              ("硕士", 9), ("博士", 1)),
    "middle": (("初中", 20), ("高中", 27), ("大专", 22), ("本科", 25),
               ("硕士", 5), ("博士", 1)),
    "senior": (("初中", 42), ("高中", 30), ("大专", 13), ("本科", 13), ("硕士", 2)),
}  # fmt: skip
EDUCATION_LEVELS = ("初中", "高中", "大专", "本科", "硕士", "博士")
# (occupation, weight, lowest education level index it needs)
OCCUPATIONS: tuple[tuple[str, int, int], ...] = (
    ("企业职员", 22, 1), ("个体工商户", 10, 0), ("教师", 6, 2), ("医生", 3, 3),
    ("护士", 3, 2), ("公务员", 4, 2), ("工程师", 7, 2), ("软件工程师", 5, 2),
    ("销售人员", 7, 0), ("会计", 4, 2), ("企业管理人员", 6, 2), ("私营企业主", 4, 0),
    ("工人", 8, 0), ("农民", 5, 0), ("司机", 3, 0), ("律师", 1, 3),
    ("自由职业者", 4, 0), ("家庭主妇", 2, 0), ("餐饮服务人员", 3, 0),
)  # fmt: skip
# acquisition channel (SalesChannel values) and its weight
ACQUISITION_CHANNELS: tuple[tuple[str, int], ...] = (
    ("agent", 55), ("bancassurance", 18), ("online", 16), ("telemarketing", 6),
    ("broker", 5),
)  # fmt: skip
