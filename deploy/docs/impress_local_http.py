"""Docs settings for the local ``docs`` compose profile only: Docs' ``Production`` configuration,
served over plain http on localhost.

Mounted into the published ``lasuite/impress-backend`` image as ``impress/local_http.py`` and
selected with ``DJANGO_SETTINGS_MODULE=impress.local_http`` and ``DJANGO_CONFIGURATION=LocalHttp``.
``Production`` redirects every http request to https and marks its cookies ``Secure``; without TLS
in front, the OIDC login would be sent to ``https://localhost:8083``. Never use this behind a
real domain: there, terminate TLS and keep ``DJANGO_CONFIGURATION=Production``.
"""

from impress.settings import Production


class LocalHttp(Production):
    SECURE_SSL_REDIRECT = False
    SECURE_PROXY_SSL_HEADER = None
    SECURE_HSTS_SECONDS = 0
    SESSION_COOKIE_SECURE = False
    CSRF_COOKIE_SECURE = False
