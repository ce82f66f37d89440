"""The monitoring processes registered with the workflow engine (``xiaokang.workflow.engine``), policy.md §6.4–6.5.

``monitoring_case`` (监测对象识别): identification of a monitoring object, Hainan's order (asset check →
village democratic appraisal and notice → township review → county approval):

| # | code | 步骤 | role, level |
|---|---|---|---|
| 1 | verification | 入户核实 (taken when a warning is verified, or on the case page) | 村级管理员, village |
| 2 | appraisal | 村级民主评议并公示 | 村级管理员, village |
| 3 | township_review | 乡镇审核, ≥ ``monitoring.notice_days`` after the appraisal (the notice period) | 乡镇管理员, town |
| 4 | county_approval | 县级审定: the case is monitored from that date; locks the case | 县级管理员, county |

A rejection at any identification step ends the case as 未纳入监测 (the base record stays).

``risk_elimination`` (风险消除): started only by ``services.propose_elimination`` when the conditions hold:

| # | code | 步骤 | role, level |
|---|---|---|---|
| 1 | proposal | 村级核实并提出（帮扶消除/自然消除） | 村级管理员, village |
| 2 | township_review | 乡镇审核 | 乡镇管理员, town |
| 3 | county_approval | 县级审定: conditions re-checked; eliminated, or kept under tracking without labour capacity | 县级管理员, county |
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from xiaokang.accounts.models import Role
from xiaokang.workflow.engine import Process, Step, register

from . import services

VILLAGE = frozenset({Role.VILLAGE_ADMIN.value})
TOWN = frozenset({Role.TOWN_ADMIN.value})
COUNTY = frozenset({Role.COUNTY_ADMIN.value})
NOTICE_DAYS_PARAM = "monitoring.notice_days"

MONITORING_CASE_PROCESS = Process(services.MONITORING_CASE, gettext_lazy("监测对象识别"), (
    Step("verification", gettext_lazy("入户核实"), VILLAGE, "village", guard=services.identification_guard),
    Step("appraisal", gettext_lazy("村级民主评议并公示"), VILLAGE, "village", guard=services.identification_guard),
    Step("township_review", gettext_lazy("乡镇审核"), TOWN, "town", min_days_after_previous_param=NOTICE_DAYS_PARAM,
         guard=services.identification_guard),
    Step("county_approval", gettext_lazy("县级审定"), COUNTY, "county", locks=True, guard=services.identification_guard,
         effect=services.identification_effect),
))

RISK_ELIMINATION_PROCESS = Process(services.RISK_ELIMINATION, gettext_lazy("风险消除"), (
    Step("proposal", gettext_lazy("村级核实并提出风险消除"), VILLAGE, "village"),
    Step("township_review", gettext_lazy("乡镇审核"), TOWN, "town"),
    Step("county_approval", gettext_lazy("县级审定"), COUNTY, "county", guard=services.elimination_guard,
         effect=services.elimination_effect),
))


def register_all():
    register(MONITORING_CASE_PROCESS)
    register(RISK_ELIMINATION_PROCESS)
