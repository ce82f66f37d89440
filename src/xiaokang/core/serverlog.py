"""The production server's own log with personal numbers masked (服务器日志脱敏).

gunicorn writes its access log (one line per request: the request line with its query string, the
referer) and its error log through its own loggers, ``gunicorn.access`` and ``gunicorn.error``, outside
Django's ``LOGGING``. A search for a full ID or mobile number is a GET query (``/registry/households/?q=…``),
so without this its number would reach the access log in full. ``MaskedLogger`` (gunicorn's ``logger_class``
in ``xiaokang serve``) puts ``logmask.MaskPersonalDataFilter`` on both loggers: ``430225********1234``,
``138****5678``, as in every other log (see ``xiaokang.core.logmask``).
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from .logmask import MaskPersonalDataFilter


class MaskedLogger(Logger):
    """gunicorn's logger with ID and mobile numbers masked in the access and error logs."""

    def setup(self, cfg):
        super().setup(cfg)  # also run again when the server reloads its configuration (HUP)
        for log in (self.access_log, self.error_log):
            if not any(isinstance(f, MaskPersonalDataFilter) for f in log.filters):
                log.addFilter(MaskPersonalDataFilter())
