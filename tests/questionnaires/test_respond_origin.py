"""What a browser sends with the respondent's form, at the HTTP level.

A browser's form POST carries an ``Origin`` header, and Django's CSRF check compares
it with the site. Under the referrer policy ``no-referrer`` the Fetch standard has
the browser send ``Origin: null`` (https://fetch.spec.whatwg.org/#serializing-a-request-origin),
which the check must refuse: every respondent was refused that way while the page
declared it. Django's test client sends no ``Origin`` at all, so these tests send
the headers a browser sends; tests/questionnaires/test_respond_browser.py does the
same with a real browser.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.test import Client

from questionnaires import ballots
from questionnaires.services import ballot_is_used, ballots_issue

from .helpers import make_round, point_of
from .test_respond_pages import RespondCase, stored

# Policies under which a same-origin POST carries the page's real origin, and a
# link or request to another site carries no URL (so no token or ballot code):
# https://w3c.github.io/webappsec-referrer-policy/#referrer-policies
SAFE_POLICIES = {"same-origin", "strict-origin", "strict-origin-when-cross-origin"}
META_POLICY = re.compile(r'<meta\s+name="referrer"\s+content="([^"]*)"', re.I)


class OriginTests(RespondCase):
    origin = "http://testserver"

    def post(self, url: str, data: dict, **headers):
        return self.browser.post(url, data, **headers)

    def test_every_respondent_page_declares_a_policy_that_keeps_the_origin(self):
        ballot_round = make_round(self.school, mode="ballot", title="选票轮次")
        point = point_of(ballot_round, self.window_a)
        code = ballots_issue(point=point, count=1)[0]
        pages = {
            "form": self.url(),
            "ballot form": f"/b/{code}/",
            "ballot form by hand": f"/s/{point.token}/",
            "thanks": f"{self.url()}done/",
            "unknown point": "/s/no-such-point-token/",
            "unknown ballot": "/b/0000-0000-0000-0000/",
        }
        for name, url in pages.items():
            with self.subTest(name):
                response = self.browser.get(url)
                declared = [response.headers.get("Referrer-Policy", "")]
                declared += META_POLICY.findall(response.content.decode())
                # A meta tag overrides the header, so every declaration must be safe.
                self.assertEqual(len(declared), 2, declared)
                for policy in declared:
                    self.assertIn(policy.strip().lower(), SAFE_POLICIES, name)

    def test_a_post_with_the_pages_own_origin_and_referer_is_stored(self):
        form = self.open_form(self.url())
        before = stored()
        response = self.post(
            self.url(),
            self.filled(self.point, form),
            HTTP_ORIGIN=self.origin,
            HTTP_REFERER=f"{self.origin}{self.url()}",
        )
        self.assertRedirects(
            response, f"{self.url()}done/", fetch_redirect_response=False
        )
        self.assertEqual(stored()[0], before[0] + 1)

    def test_over_https_the_own_origin_is_accepted(self):
        https = Client(enforce_csrf_checks=True)
        form = self.open_form(self.url(), https)
        response = https.post(
            self.url(),
            self.filled(self.point, form),
            secure=True,
            HTTP_ORIGIN="https://testserver",
            HTTP_REFERER=f"https://testserver{self.url()}",
        )
        self.assertEqual(response.status_code, 302)

    def test_the_public_base_urls_origin_is_trusted(self):
        # The QR codes point there; a proxy may present another host name to us.
        public = "/".join(settings.PUBLIC_BASE_URL.split("/", 3)[:3])
        self.assertIn(public, settings.CSRF_TRUSTED_ORIGINS)
        form = self.open_form(self.url())
        response = self.post(
            self.url(), self.filled(self.point, form), HTTP_ORIGIN=public
        )
        self.assertEqual(response.status_code, 302)

    def test_a_cross_site_origin_is_refused_and_nothing_is_stored(self):
        form = self.open_form(self.url())
        before = stored()
        for origin in ("https://evil.example", "http://testserver.evil.example"):
            with self.subTest(origin):
                response = self.post(
                    self.url(),
                    self.filled(self.point, form),
                    HTTP_ORIGIN=origin,
                    HTTP_REFERER=f"{origin}/page",
                )
                self.assert_refused(response, 403, "提交未被接受")
                # The refusal page offers the way back, not Django's debug text.
                self.assertContains(response, f'href="{self.url()}"', status_code=403)
                self.assertNotContains(response, "CSRF", status_code=403)
        self.assertEqual(stored(), before)

    def test_a_null_origin_is_refused(self):
        """What a page under no-referrer makes a browser send: refused, so our pages
        must never cause it (the first test)."""
        form = self.open_form(self.url())
        before = stored()
        response = self.post(
            self.url(), self.filled(self.point, form), HTTP_ORIGIN="null"
        )
        self.assert_refused(response, 403, "提交未被接受")
        self.assertEqual(stored(), before)

    def test_a_ballot_posted_from_another_site_is_refused_and_stays_unused(self):
        ballot_round = make_round(self.school, mode="ballot", title="选票轮次")
        point = point_of(ballot_round, self.window_a)
        code = ballots_issue(point=point, count=1)[0]
        url = f"/b/{ballots.grouped(code)}/"
        form = self.open_form(url)
        data = self.filled(point, form)
        before = stored()
        response = self.post(url, data, HTTP_ORIGIN="https://evil.example")
        self.assert_refused(response, 403, "提交未被接受")
        self.assertEqual(stored(), before)
        self.assertFalse(ballot_is_used(code))

        response = self.post(
            url, data, HTTP_ORIGIN=self.origin, HTTP_REFERER=f"{self.origin}{url}"
        )
        self.assertEqual(response.status_code, 302)
        self.assertTrue(ballot_is_used(code))

    def test_a_management_form_refusal_has_its_own_page(self):
        client = Client(enforce_csrf_checks=True)
        response = client.post(
            "/accounts/login/",
            {"username": "leader", "password": "pw-leader"},
            HTTP_ORIGIN="https://evil.example",
        )
        self.assert_refused(response, 403, "提交未被接受")
        self.assertNotIn("_auth_user_id", client.session)
