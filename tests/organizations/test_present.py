"""The presentation filters (organizations/templatetags/present.py): percentages,
Chinese dates and periods, and the capture tag behind the breadcrumbs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.template import Context, Template
from django.test import SimpleTestCase
from django.utils import translation

from organizations.templatetags.present import (
    cn_date,
    cn_datetime,
    cn_period,
    percent,
)

UTC = dt.UTC


class PercentTests(SimpleTestCase):
    def test_it_drops_a_trailing_zero(self):
        self.assertEqual(percent(Decimal("0.950")), "95%")
        self.assertEqual(percent(0.95), "95%")
        self.assertEqual(percent(1), "100%")
        self.assertEqual(percent(0), "0%")

    def test_it_rounds_halves_up_to_one_decimal(self):
        self.assertEqual(percent(0.9025), "90.3%")
        self.assertEqual(percent(Decimal("0.9025")), "90.3%")
        self.assertEqual(percent(0.12345), "12.3%")
        self.assertEqual(percent(0.0005), "0.1%")

    def test_it_takes_the_number_of_digits(self):
        self.assertEqual(percent(0.9025, 2), "90.25%")
        self.assertEqual(percent(0.9025, 0), "90%")
        self.assertEqual(percent(0.95, 2), "95%")

    def test_it_shows_a_dash_for_no_value(self):
        self.assertEqual(percent(None), "—")
        self.assertEqual(percent("not a number"), "—")

    def test_it_works_in_a_template(self):
        out = Template("{% load present %}{{ a|percent }} {{ a|percent:2 }}").render(
            Context({"a": Decimal("0.9025")})
        )
        self.assertEqual(out, "90.3% 90.25%")


class DateTests(SimpleTestCase):
    def test_it_writes_a_chinese_date(self):
        with translation.override("zh-hans"):
            self.assertEqual(cn_date(dt.date(2026, 5, 15)), "2026年5月15日")
            self.assertEqual(cn_date(dt.date(2026, 11, 3)), "2026年11月3日")

    def test_it_shows_a_datetime_on_the_day_in_beijing(self):
        # 16:30 UTC on 14 May is 00:30 on 15 May in Asia/Shanghai.
        moment = dt.datetime(2026, 5, 14, 16, 30, tzinfo=UTC)
        with translation.override("zh-hans"):
            self.assertEqual(cn_date(moment), "2026年5月15日")

    def test_it_writes_an_english_date_in_english(self):
        with translation.override("en"):
            self.assertEqual(cn_date(dt.date(2026, 5, 15)), "May 15, 2026")

    def test_it_shows_a_dash_for_no_date(self):
        self.assertEqual(cn_date(None), "—")
        self.assertEqual(cn_datetime(None), "—")

    def test_it_writes_a_moment_in_beijing_time(self):
        moment = dt.datetime(2026, 5, 14, 16, 30, tzinfo=UTC)
        with translation.override("zh-hans"):
            self.assertEqual(cn_datetime(moment), "2026年5月15日 00:30")
        with translation.override("en"):
            self.assertEqual(cn_datetime(moment), "May 15, 2026 00:30")


class PeriodTests(SimpleTestCase):
    def test_it_leaves_out_the_end_year_when_it_is_the_same(self):
        with translation.override("zh-hans"):
            self.assertEqual(
                cn_period(dt.date(2026, 5, 15), dt.date(2026, 6, 14)),
                "2026年5月15日—6月14日",
            )

    def test_it_keeps_both_years_across_new_year(self):
        with translation.override("zh-hans"):
            self.assertEqual(
                cn_period(dt.date(2025, 12, 20), dt.date(2026, 1, 10)),
                "2025年12月20日—2026年1月10日",
            )

    def test_it_takes_aware_datetimes_in_local_time(self):
        shanghai = ZoneInfo("Asia/Shanghai")
        start = dt.datetime(2026, 5, 15, 8, 0, tzinfo=shanghai)
        end = dt.datetime(2026, 6, 14, 16, 30, tzinfo=UTC)  # 00:30 on 15 June
        with translation.override("zh-hans"):
            self.assertEqual(cn_period(start, end), "2026年5月15日—6月15日")

    def test_it_writes_one_day_once(self):
        day = dt.date(2026, 5, 15)
        with translation.override("zh-hans"):
            self.assertEqual(cn_period(day, day), "2026年5月15日")

    def test_it_writes_an_english_period(self):
        with translation.override("en"):
            self.assertEqual(
                cn_period(dt.date(2026, 5, 15), dt.date(2026, 6, 14)),
                "May 15 – June 14, 2026",
            )
            self.assertEqual(
                cn_period(dt.date(2025, 12, 20), dt.date(2026, 1, 10)),
                "Dec. 20, 2025 – Jan. 10, 2026",
            )

    def test_it_works_in_a_template(self):
        page = Template("{% load present %}{{ a|cn_period:b }}")
        context = Context({"a": dt.date(2026, 5, 15), "b": dt.date(2026, 6, 14)})
        with translation.override("zh-hans"):
            self.assertEqual(page.render(context), "2026年5月15日—6月14日")


class CaptureTests(SimpleTestCase):
    PAGE = (
        "{% extends base %}{% block crumbs %}<a href='/r/'>轮次</a> › 结果"
        "{% endblock %}"
    )
    BASE = (
        "{% load present %}{% capture as crumbs %}{% block crumbs %}{% endblock %}"
        "{% endcapture %}{% if crumbs %}<nav>{{ crumbs }}</nav>{% endif %}<main></main>"
    )

    def test_it_wraps_a_block_a_page_fills(self):
        base = Template(self.BASE)
        out = Template(self.PAGE).render(Context({"base": base}))
        self.assertEqual(out, "<nav><a href='/r/'>轮次</a> › 结果</nav><main></main>")

    def test_it_leaves_out_the_wrapper_when_the_block_is_empty(self):
        base = Template(self.BASE)
        out = Template("{% extends base %}").render(Context({"base": base}))
        self.assertEqual(out, "<main></main>")
