import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "survey_service.settings")
# The statistics' matrices are small: one BLAS thread per process, not one per
# core in each of several workers (set before numpy is first imported).
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

application = get_wsgi_application()
