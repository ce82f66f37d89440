"""Session timeout (会话超时): a signed-in user who sends no request for ``SESSION_IDLE_SECONDS`` is signed out.

The time of the last request is kept in the session (``xk_last_seen``, seconds since the epoch), written at
most once every ``SESSION_IDLE_WRITE_SECONDS`` so that a busy user does not cost a session write per request.
On the next request after the timeout the session is flushed and the user is sent to the login page (pages,
with a message) or answered 401 (the JSON API). The absolute limit stays ``SESSION_COOKIE_AGE`` (8 hours)
and the session ends when the browser closes (``SESSION_EXPIRE_AT_BROWSER_CLOSE``).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.utils.translation import gettext as _

LAST_SEEN = "xk_last_seen"


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_SEEN)
            if last is not None and now - last > settings.SESSION_IDLE_SECONDS:
                logout(request)
                message = _("您已 %(m)s 分钟未操作，为保护个人信息已自动退出，请重新登录。") % {
                    "m": settings.SESSION_IDLE_SECONDS // 60}
                if request.path.startswith("/api/"):
                    return JsonResponse({"error": "session_expired", "message": message}, status=401,
                                        json_dumps_params={"ensure_ascii": False})
                messages.warning(request, message)
                return redirect_to_login(request.get_full_path())
            if last is None or now - last >= settings.SESSION_IDLE_WRITE_SECONDS:
                request.session[LAST_SEEN] = now
        return self.get_response(request)
