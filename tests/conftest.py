"""Test-wide settings that differ from a server's.

Static files: pages in tests render with the plain storage, because the manifest
that production uses exists only after ``collectstatic`` (which
tests/survey_service/test_deploy.py runs for real).

Order: tests/test_form_coverage.py runs last (see the hook below).
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
settings.STATIC_ROOT = None
settings.WHITENOISE_USE_FINDERS = True


# --- The form coverage test runs last, and only in a run of the whole suite ---------

FORM_COVERAGE = Path(__file__).parent / "test_form_coverage.py"
# Options that leave part of the suite out while pytest still collects testpaths.
SUBSETTING_OPTIONS = (
    "keyword",
    "markexpr",
    "deselect",
    "ignore",
    "ignore_glob",
    "lf",
    "stepwise",
)


def whole_suite(config: pytest.Config) -> bool:
    return config.args_source == pytest.Config.ArgsSource.TESTPATHS and not any(
        config.getoption(name, default=None) for name in SUBSETTING_OPTIONS
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """tests/test_form_coverage.py after every browser test; skipped unless the
    whole suite runs (a part of it submits only part of the forms). A missing
    Chromium under REQUIRE_BROWSER_TESTS=1 is not skipped: the test fails on it."""
    last = [item for item in items if item.path == FORM_COVERAGE]
    items[:] = [item for item in items if item.path != FORM_COVERAGE] + last
    from tests.browser import CHROMIUM

    required = os.environ.get("REQUIRE_BROWSER_TESTS") == "1"
    if not whole_suite(config) and not (required and not Path(CHROMIUM).exists()):
        for item in last:
            item.add_marker(pytest.mark.skip(reason="run the whole suite: make test"))


# --- Kept respondent facts do not outlive a test -----------------------------------


@pytest.fixture(autouse=True)
def _fresh_respondent_facts():
    """A test's rollback sends no save signal, so the respondent page's kept facts
    (questionnaires/page_cache.py) of one test are forgotten before the next."""
    from questionnaires import page_cache

    page_cache.facts_clear()
    yield
