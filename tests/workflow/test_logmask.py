"""Log masking (xiaokang.core.logmask): 18-digit ID numbers keep the first 6 and last 4, 11-digit mobile numbers
the first 3 and last 4, in the message, its arguments and tracebacks; installed on the configured handlers."""

import io
import logging

from django.conf import settings

from xiaokang.core.logmask import MaskPersonalDataFilter, mask_text
from xiaokang.registry.idnumber import make_id_number

import datetime as dt

ID = make_id_number("430225", dt.date(1970, 3, 1), 901)   # synthetic: sequence 901


def test_mask_text():
    assert ID[:6] == "430225" and len(ID) == 18
    assert mask_text(f"证件 {ID} 已查看") == f"证件 430225********{ID[-4:]} 已查看"
    assert mask_text("43022519700301901X") == "430225********901X"
    assert mask_text("电话13812345678，") == "电话138****5678，"
    assert mask_text("户编号 4302251002010001") == "户编号 4302251002010001"   # 16 digits: neither
    assert mask_text("code 12345678901234567890") == "code 12345678901234567890"  # 20 digits: untouched
    assert mask_text("2020-10-01 12:00:00 共 3 户") == "2020-10-01 12:00:00 共 3 户"


def _logger_with_filter():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPersonalDataFilter())
    logger = logging.getLogger("xiaokang.test.logmask")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_filter_masks_message_args_and_traceback():
    logger, stream = _logger_with_filter()
    logger.info("member %s phone %s", ID, 13812345678)
    logger.info("dict args %(id)s", {"id": ID})
    logger.info(f"inline {ID}")
    try:
        raise ValueError(f"bad id {ID}")
    except ValueError:
        logger.exception("failed for %s", "13912345678")
    out = stream.getvalue()
    assert ID not in out and "13812345678" not in out and "13912345678" not in out
    assert out.count(f"430225********{ID[-4:]}") == 4
    assert "member 430225********" in out and "phone 138****5678" in out and "failed for 139****5678" in out


def test_filter_never_drops_and_survives_bad_format():
    logger, stream = _logger_with_filter()
    logger.info("broken %d", ID)
    assert f"430225********{ID[-4:]}" in stream.getvalue()


def test_installed_in_settings_logging():
    cfg = settings.LOGGING
    assert cfg["filters"]["mask_personal"]["()"] == "xiaokang.core.logmask.MaskPersonalDataFilter"
    for name in ("console", "django_console", "django.server", "mail_admins"):
        assert "mask_personal" in cfg["handlers"][name]["filters"], name
    root_handlers = logging.getLogger().handlers
    assert any(any(isinstance(f, MaskPersonalDataFilter) for f in h.filters) for h in root_handlers)
    django_handlers = logging.getLogger("django").handlers
    assert django_handlers and all(any(isinstance(f, MaskPersonalDataFilter) for f in h.filters)
                                   for h in django_handlers)


def test_mask_phone():
    from xiaokang.core.logmask import mask_phone

    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0731-22334455") == "073******4455"
    assert mask_phone("1234567") == "*******"
    assert mask_phone("") == ""


def test_phone_masked_on_household_page_and_full_number_shown_only_by_logged_post(data, users):
    from django.test import Client
    from django.urls import reverse

    from xiaokang.registry.models import FullIdView, Household
    from xiaokang.registry.services import update_household

    update_household(data.h2.pk, {"phone": "13812345678"}, Household.objects.get(pk=data.h2.pk).version,
                     user=users.village)
    url = reverse("household_detail", args=[data.h2.pk])
    reveal = reverse("household_full_phone", args=[data.h2.pk])
    for who, full in (("village", True), ("county", True), ("cadre", False), ("city", False)):
        c = Client()
        c.force_login(getattr(users, who))
        html = c.get(url).content.decode()
        assert "13812345678" not in html, who  # masked for every role: page and change history alike
        assert "138****5678" in html, who
        assert (reveal in html) is full, who  # the button, for the roles that may see full numbers
        assert c.get(reveal).status_code == 405
        before = FullIdView.objects.count()
        response = c.post(reveal)
        if full:
            assert response.status_code == 200 and "13812345678" in response.content.decode(), who
            assert response["Cache-Control"] == "no-store"
            log = FullIdView.objects.latest("id")
            assert (log.field, log.user, log.household_id, log.member_id, log.area_code) == (
                "phone", getattr(users, who), data.h2.pk, None, data.h2.area_id)
        else:
            assert response.status_code == 403 and "13812345678" not in response.content.decode(), who
            assert FullIdView.objects.count() == before
    # a household without a phone number: no button, and nothing to reveal or log
    c = Client()
    c.force_login(users.village)
    before = FullIdView.objects.count()
    blank = reverse("household_full_phone", args=[data.h1.pk])
    assert Household.objects.get(pk=data.h1.pk).phone == ""
    page = c.get(reverse("household_detail", args=[data.h1.pk]))
    assert page.status_code == 200 and blank not in page.content.decode()
    assert c.post(blank).status_code == 404 and FullIdView.objects.count() == before


def test_refusals_of_djangos_security_checks_log_one_line():
    """A lookup the admin does not offer (a probe of a masked number) logs its message, not two tracebacks."""
    from django.conf import settings

    from xiaokang.core.logmask import NoTracebackFilter

    assert settings.LOGGING["loggers"]["django.security"]["handlers"] == ["security_console"]
    assert settings.LOGGING["handlers"]["security_console"]["filters"] == ["no_traceback", "mask_personal"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(NoTracebackFilter())
    handler.addFilter(MaskPersonalDataFilter())
    logger = logging.getLogger("xiaokang.test.security")
    logger.handlers, logger.propagate = [handler], False
    try:
        raise ValueError("Filtering by id_number__startswith not allowed")
    except ValueError as exc:
        logger.error("Filtering by id_number__startswith=%s not allowed", "430225199001011234", exc_info=exc)
    assert stream.getvalue() == "Filtering by id_number__startswith=430225********1234 not allowed\n"
