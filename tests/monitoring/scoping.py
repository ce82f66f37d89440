"""Out-of-area requests for ``tests/test_routes_scoped.py``: a 茶陵 (430224) warning and case that a 炎陵 user
must get 404 for. ``request(d, route)`` -> (method, url, params)."""

import datetime as dt

from django.urls import reverse


def chaling_case(d):
    from xiaokang.monitoring.models import EarlyWarning, MonitoringCase

    w, _ = EarlyWarning.objects.get_or_create(
        household=d.h4, year=2020, kind="INCOME_IN_RANGE",
        defaults=dict(area_code=d.h4.area_id, value=200000, threshold=600000, rule_version="test",
                      created_at=dt.datetime(2020, 12, 31, tzinfo=dt.timezone.utc)))
    case, _ = MonitoringCase.objects.get_or_create(
        household=d.h4, defaults=dict(area_code=d.h4.area_id, category="edge", risk_types="01", channel="cadre",
                                      opened_on=dt.date(2020, 5, 1), status="monitored"))
    return w, case


def request(d, route):
    w, case = chaling_case(d)
    if route == "warning_verify":
        return "post", reverse(route, args=[w.pk]), {"channel": "sector"}
    if route == "warning_dismiss":
        return "post", reverse(route, args=[w.pk]), {"reason": "测试"}
    if route == "monitoring_case_detail":
        return "get", reverse(route, args=[case.pk]), {}
    if route == "monitoring_case_step":
        return "post", reverse(route, args=[case.pk]), {"process": "risk_elimination", "step": "proposal",
                                                        "outcome": "approved"}
    if route == "monitoring_case_measure":
        return "post", reverse(route, args=[case.pk]), {"kind": "health", "description": "测试",
                                                        "started_on": "2020-06-01"}
    if route == "monitoring_case_income_check":
        return "post", reverse(route, args=[case.pk]), {"checked_on": "2020-06-01", "per_capita_income": "6500"}
    if route == "monitoring_case_eliminate":
        return "post", reverse(route, args=[case.pk]), {"kind": "natural"}
    raise KeyError(route)


ROUTES = ("warning_verify", "warning_dismiss", "monitoring_case_detail", "monitoring_case_step",
          "monitoring_case_measure", "monitoring_case_income_check", "monitoring_case_eliminate")
