"""What the respondent reads: who asks, why, until when, what is promised, and the
questions laid out to be read in order (dimensions as headings, jargon explained).
The same browser-like client as test_respond_pages.py."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from questionnaires.forms_spec import form_spec
from questionnaires.services import ballots_issue, campaign_close, campaign_publish

from .helpers import make_round, point_of, question
from .test_respond_pages import RespondCase, section


class WhatTheRespondentReadsTests(RespondCase):
    """Who asks, why, until when and what is promised, at the top of the form."""

    def intro(self, html: str) -> str:
        match = re.search(
            r'<section class="card intro"[^>]*>(.*?)</section>', html, re.S
        )
        assert match, "no introduction"
        return match.group(1)

    def test_the_form_opens_with_organiser_purpose_deadline_and_promise(self):
        self.campaign.description = "了解师生对各单位的评价，推动整改"
        self.campaign.save(update_fields=["description"])
        html = self.browser.get(self.url()).content.decode()
        header = html[: html.index('<section class="card intro"')]
        self.assertIn("组织单位：测试大学", header)
        intro = self.intro(html)
        closes = timezone.localtime(self.campaign.closes_at)
        self.assertIn(f"{closes.year}年{closes.month}月{closes.day}日", intro)
        self.assertIn("截止时间：", intro)
        self.assertIn("了解师生对各单位的评价，推动整改", intro)
        self.assertIn("匿名作答，不记录姓名、学号、微信或 IP", intro)
        self.assertNotIn("选票随机发放", intro)
        # It comes before the first question.
        self.assertLess(html.index("匿名作答"), html.index("<fieldset"))

    def test_without_a_description_the_questionnaires_own_purpose_is_shown(self):
        intro = self.intro(self.browser.get(self.url()).content.decode())
        self.assertIn(self.point.questionnaire.description, intro)

    def test_ballot_pages_say_slips_are_handed_out_at_random(self):
        ballot_round = make_round(self.school, mode="ballot", title="选票轮次")
        point = point_of(ballot_round, self.window_a)
        (code,) = ballots_issue(point=point, count=1)
        for url in (f"/b/{code}/", f"/s/{point.token}/"):
            with self.subTest(url):
                intro = self.intro(self.browser.get(url).content.decode())
                self.assertIn("选票随机发放，不登记领取人", intro)

    def test_dimensions_are_section_headings_not_cues_inside_questions(self):
        point = point_of(self.campaign, self.unit_a)
        html = self.browser.get(self.url(point)).content.decode()
        headings = re.findall(r'<h2 class="section">([^<]+)</h2>', html)
        self.assertEqual(
            headings,
            ["领导班子好", "党员队伍好", "工作机制好", "工作业绩好", "群众反映好"],
        )
        for legend in re.findall(r"<legend>(.*?)</legend>", html, re.S):
            for dimension in headings:
                self.assertNotIn(dimension, legend)
        # Numbering runs on across the sections.
        numbers = [int(n) for n in re.findall(r"<legend>(\d+)\. ", html)]
        self.assertEqual(numbers, list(range(1, len(numbers) + 1)))

    def test_party_jargon_gets_a_one_line_explanation(self):
        point = point_of(self.campaign, self.unit_a)
        html = self.browser.get(self.url(point)).content.decode()
        rules = question(point, "scale", headline=False)
        for q in form_spec(point.questionnaire).questions:
            if "三会一课" in q.text:
                rules = q
        card = section(html, rules.id)
        self.assertIn("三会一课：定期召开支部党员大会、支部委员会、党小组会", card)
        self.assertIn(f'aria-describedby="q{rules.id}-help"', card)

    def test_the_closed_page_links_to_the_latest_published_board(self):
        earlier = make_round(self.school, title="上一轮", kinds={"window": "window"})
        campaign_close(campaign=earlier)
        campaign_close(campaign=self.campaign)
        page = self.browser.get(self.url())
        self.assertNotContains(page, "/public/campaigns/", status_code=410)
        campaign_publish(campaign=earlier)
        page = self.browser.get(self.url())
        self.assertContains(
            page, f'href="/public/campaigns/{earlier.pk}/"', status_code=410
        )
        campaign_publish(campaign=self.campaign)
        page = self.browser.get(self.url())
        self.assertContains(
            page, f'href="/public/campaigns/{self.campaign.pk}/"', status_code=410
        )

    def test_the_not_yet_open_page_says_when_the_round_runs(self):
        later = make_round(
            self.school,
            title="下一轮",
            opens_at=timezone.now() + timedelta(days=3),
            closes_at=timezone.now() + timedelta(days=10),
        )
        page = self.browser.get(self.url(point_of(later, self.window_a)))
        opens = timezone.localtime(later.opens_at)
        self.assertContains(
            page, f"{opens.year}年{opens.month}月{opens.day}日", status_code=403
        )
