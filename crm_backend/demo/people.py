"""Personal data of demo customers: names, ID numbers, phones, addresses, bank cards.

Names come from Faker's zh_CN tables (surnames weighted by frequency) sampled with the
generator's own ``random.Random``, which is both deterministic and ~10x faster than
calling Faker per name; Faker itself supplies e-mail user names.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker
from faker.providers.address.zh_CN import Provider as ZhAddress
from faker.providers.person.zh_CN import Provider as ZhPerson

from crm_backend.demo.places import (
    BANKS,
    EDUCATION_BY_AGE,
    EDUCATION_LEVELS,
    EMAIL_DOMAINS,
    ESTATES,
    OCCUPATIONS,
    PHONE_PREFIXES,
    PROVINCES,
    STREET_SUFFIXES,
    Bank,
    City,
    District,
    Province,
)
from crm_backend.models.enums import Gender

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PHONE_MULTIPLIER = 61_803_399
_PHONE_OFFSET = 27_182_818

# Two-character given names are the most common today; Faker's lists are mostly single.
_GIVEN_MALE_2 = (
    "建华", "志强", "俊杰", "浩然", "子轩", "宇航", "明辉", "文博", "国栋", "海涛",
    "晓东", "振华", "家豪", "天佑", "思远", "立新", "永刚", "少杰", "鹏飞", "嘉伟",
    "一鸣", "晨阳", "博文", "泽宇", "昊天", "建军", "红旗", "德明", "建平", "志勇",
)  # fmt: skip
_GIVEN_FEMALE_2 = (
    "秀英", "丽娟", "慧敏", "婷婷", "雅琴", "晓燕", "欣怡", "梦瑶", "佳怡", "思琪",
    "雨桐", "子涵", "玉兰", "桂芳", "美玲", "春梅", "海燕", "淑珍", "静怡", "嘉欣",
    "晓丽", "文静", "若曦", "诗雨", "凤英", "丽华", "艳红", "彩霞", "琳琳", "晓梅",
)  # fmt: skip


def id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an 18-character ID number."""
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_number_valid(id_number: str) -> bool:
    """True for 18 characters whose last one is the right check character."""
    return (
        len(id_number) == 18
        and id_number[:17].isdigit()
        and id_check_digit(id_number[:17]) == id_number[17]
    )


def luhn_digit(body: str) -> str:
    """The Luhn check digit bank card numbers end with."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


class _Weighted:
    """Fast weighted choice over a fixed table (bisect on cumulative weights)."""

    def __init__(self, items: list[object] | tuple[object, ...], weights: list[float]):
        self.items = list(items)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> object:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


@dataclass(frozen=True)
class Person:
    """One generated person (before ids)."""

    name: str
    gender: Gender
    birth_date: date
    id_number: str
    phone: str
    email: str | None
    address: str
    province: Province
    city: City
    occupation: str
    education: str


class PeopleFactory:
    """Deterministic source of personal data; keeps phones and ID numbers unique."""

    def __init__(self, rng: random.Random, faker: Faker, today: date) -> None:
        self.rng = rng
        self.faker = faker
        self.today = today
        surnames = ZhPerson.last_names
        self._surname = _Weighted(list(surnames.keys()), list(surnames.values()))
        self._province = _Weighted(PROVINCES, [p.population_m for p in PROVINCES])
        self._bank = _Weighted(BANKS, [b.weight for b in BANKS])
        self._occupation = {
            level: _Weighted(
                [name for name, _, least in OCCUPATIONS if least <= level],
                [weight for _, weight, least in OCCUPATIONS if least <= level],
            )
            for level in range(len(EDUCATION_LEVELS))
        }
        self._education = {
            band: _Weighted(*zip(*table, strict=True))  # type: ignore[arg-type]
            for band, table in EDUCATION_BY_AGE.items()
        }
        self._email_domain = _Weighted(*zip(*EMAIL_DOMAINS, strict=True))  # type: ignore[arg-type]
        self._street_roots = _street_roots()
        self.reserved_phones: set[str] = set()
        self.used_ids: set[int] = set()

    # ---- names ---------------------------------------------------------------

    def surname(self) -> str:
        """A surname weighted by frequency."""
        return str(self._surname.pick(self.rng))

    def given_name(self, gender: Gender) -> str:
        """A given name matching ``gender``."""
        rng = self.rng
        if gender == Gender.male:
            singles, doubles = ZhPerson.first_names_male, _GIVEN_MALE_2
        else:
            singles, doubles = ZhPerson.first_names_female, _GIVEN_FEMALE_2
        if rng.random() < 0.45:
            return rng.choice(singles)
        return rng.choice(doubles)

    def full_name(self, gender: Gender, surname: str | None = None) -> str:
        """Surname plus a gender-consistent given name."""
        return (surname or self.surname()) + self.given_name(gender)

    # ---- identity --------------------------------------------------------------

    def birth_date(self, age: int) -> date:
        """A birth date for someone ``age`` years old on ``today``."""
        start = _years_before(self.today, age + 1) + timedelta(days=1)
        return start + timedelta(days=self.rng.randrange(365))

    def id_number(self, district: District, birth: date, gender: Gender) -> str:
        """A unique, valid 18-character resident ID number."""
        rng = self.rng
        while True:
            seq = rng.randrange(0, 500) * 2 + (1 if gender == Gender.male else 0)
            body = f"{district.code}{birth:%Y%m%d}{seq:03d}"
            key = int(body)
            if key not in self.used_ids:
                self.used_ids.add(key)
                return body + id_check_digit(body)

    def reserve(self, *, phone: str, id_number: str) -> None:
        """Mark a fixed phone and ID number as taken."""
        self.reserved_phones.add(phone)
        self.used_ids.add(int(id_number[:17]))

    def phone(self, index: int) -> str:
        """The mobile number of the ``index``-th customer, unique without bookkeeping.

        The last 8 digits are an affine permutation of the index (the multiplier is
        coprime with 10**8), so no two customers share them whatever the prefix.
        """
        suffix = (index * _PHONE_MULTIPLIER + _PHONE_OFFSET) % 10**8
        while True:
            number = f"{self.rng.choice(PHONE_PREFIXES)}{suffix:08d}"
            if number not in self.reserved_phones:
                return number

    def email(self) -> str:
        """A plausible personal e-mail address."""
        domain = str(self._email_domain.pick(self.rng))
        if domain == "qq.com":
            return f"{self.rng.randrange(10**5, 3 * 10**9)}@qq.com"
        if domain == "139.com":
            return f"{self.phone_like()}@139.com"
        return f"{self.faker.user_name()}{self.rng.randrange(100)}@{domain}"

    def phone_like(self) -> str:
        """A mobile-looking number that is not registered to anyone."""
        return f"{self.rng.choice(PHONE_PREFIXES)}{self.rng.randrange(10**8):08d}"

    # ---- places ---------------------------------------------------------------

    def province(self) -> Province:
        """A province weighted by population."""
        p = self._province.pick(self.rng)
        assert isinstance(p, Province)
        return p

    def address(self, province: Province, city: City, district: District) -> str:
        """A street address in ``district``."""
        rng = self.rng
        street = rng.choice(self._street_roots) + rng.choice(STREET_SUFFIXES)
        municipality = province.full.endswith("市")
        parts = [province.full, "" if municipality else f"{city.name}市"]
        parts.append("" if district.name.endswith("市") else district.name)
        parts.append(f"{street}{rng.randint(1, 999)}号")
        if rng.random() < 0.75:
            parts.append(
                f"{rng.choice(ESTATES)}{rng.randint(1, 30)}栋"
                f"{rng.randint(1, 4)}单元{rng.randint(1, 33)}{rng.randint(1, 6):02d}室"
            )
        return "".join(parts)

    # ---- the rest ---------------------------------------------------------------

    def occupation(self, age: int, education: str) -> str:
        """An occupation plausible at ``age`` with ``education``."""
        if age >= 60 and self.rng.random() < 0.7:
            return "退休人员"
        level = EDUCATION_LEVELS.index(education)
        return str(self._occupation[level].pick(self.rng))

    def education(self, age: int) -> str:
        """An education level, older people less often with degrees."""
        band = "young" if age < 35 else "middle" if age < 60 else "senior"
        return str(self._education[band].pick(self.rng))

    def occupation_and_education(self, age: int) -> tuple[str, str]:
        """Both at once: students (18-22) are still studying."""
        if age < 23 and self.rng.random() < 0.6:
            return "学生", "高中" if age < 21 else self.rng.choice(("大专", "本科"))
        education = self.education(age)
        return self.occupation(age, education), education

    def bank_account(self) -> tuple[str, str]:
        """``(bank name, debit card number)`` with a valid Luhn digit."""
        bank = self._bank.pick(self.rng)
        assert isinstance(bank, Bank)
        digits = bank.length - len(bank.bin) - 1
        body = f"{bank.bin}{self.rng.randrange(10**digits):0{digits}d}"
        return bank.name, body + luhn_digit(body)

    def person(self, index: int, age: int, gender: Gender) -> Person:
        """A whole random person of ``age`` and ``gender``."""
        rng = self.rng
        province = self.province()
        city = rng.choice(province.cities)
        district = rng.choice(city.districts)
        birth = self.birth_date(age)
        # a fifth were born (registered) in another province than where they live
        born_in = district
        if rng.random() < 0.2:
            other = self.province()
            born_in = rng.choice(rng.choice(other.cities).districts)
        occupation, education = self.occupation_and_education(age)
        return Person(
            name=self.full_name(gender),
            gender=gender,
            birth_date=birth,
            id_number=self.id_number(born_in, birth, gender),
            phone=self.phone(index),
            email=self.email() if rng.random() < 0.35 else None,
            address=self.address(province, city, district),
            province=province,
            city=city,
            occupation=occupation,
            education=education,
        )


def _street_roots() -> tuple[str, ...]:
    # Chinese streets are very often named after other cities and provinces.
    cities = tuple(c for c in ZhAddress.cities if len(c) <= 3)
    return cities + ("人民", "解放", "中山", "建设", "和平", "文化", "胜利", "新华")


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
