"""The service's URLconf as it is where CAS_SERVER_URL is set: survey_service/urls.py
adds the CAS routes when it is imported with that setting, which in the test
process it is not (tests/survey_service/test_cas.py imports it before switching
CAS on, and checks that import with the setting in a process of its own)."""

from survey_service import cas
from survey_service.urls import handler404  # noqa: F401
from survey_service.urls import urlpatterns as site_urlpatterns

urlpatterns = [*site_urlpatterns, *cas.urlpatterns]
