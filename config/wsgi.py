import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_wsgi_application()
# What loading made (modules, settings, URL patterns, models) lives as long as the process: moved
# out of the collector's generations, so that each request's collections scan only what the
# request made (about 1 ms of a 30 ms section page; docs/benchmarks.md).
gc.freeze()
