import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jianguan.settings")
django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (after the settings module is chosen and Django set up)

from jianguan.core.bodylimit import BodyLimitWSGI  # noqa: E402

# The server refuses request bodies over the cap before Django reads them (docs/deployment.md).
application = BodyLimitWSGI(django_application, settings.REQUEST_BODY_MAX_BYTES)
