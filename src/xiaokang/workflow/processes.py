"""The household exit process (贫困户退出程序, ``household_exit``), policy.md §3.3, registered with the engine.

Steps, each taken by the role at the level shown (superusers may take any):

| # | code | 步骤 | role, level |
|---|---|---|---|
| 1 | appraisal | 民主评议 (village democratic appraisal proposes the household) | 村级管理员, village |
| 2 | verification | 村两委和驻村工作队核实 | 村级管理员, village |
| 3 | household_signature | 贫困户签字确认 (the household signs the exit confirmation) | 村级管理员, village |
| 4 | notice_start | 村内公示开始 | 村级管理员, village |
| 5 | notice_end | 村内公示结束，登记异议 (≥ ``exit.notice_days_min`` = 7 days after the start) | 村级管理员, village |
| 6 | township_review | 乡镇审核 (refused while an objection is unresolved) | 乡镇管理员, town |
| 7 | county_approval | 县级审批 (locks the household) | 县级管理员, county |
| 8 | announcement | 公告 | 县级管理员, county |
| 9 | removal | 销号: poverty_status → exited, exit_year, through ``registry.services.update_household`` | 县级管理员, county |

The notice (公示) is one step of the policy's procedure recorded as two engine steps (its start and its end),
so that the waiting period is checked by the engine like any other (``min_days_after_previous_param``).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaokang.accounts.models import Role

from .engine import Process, Step, WorkflowConflict, register

HOUSEHOLD_EXIT = "household_exit"
NOTICE_DAYS_PARAM = "exit.notice_days_min"

VILLAGE = frozenset({Role.VILLAGE_ADMIN.value})
TOWN = frozenset({Role.TOWN_ADMIN.value})
COUNTY = frozenset({Role.COUNTY_ADMIN.value})


def _record_objections(instance, record, user):
    """notice_end: the objections listed in the step's data (``{"objections": ["…", …]}``) are recorded."""
    from .models import Objection

    texts = [str(t).strip() for t in (record.data or {}).get("objections", []) if str(t).strip()]
    Objection.objects.bulk_create([
        Objection(instance_id=instance.pk, text=t, raised_on=record.taken_on, recorded_by=record.user,
                  recorded_by_username=record.username)
        for t in texts
    ])


def _no_open_objections(instance, step, user, outcome, data, on):
    """township_review: refused (409) while an objection raised during the notice is unresolved."""
    from .models import Objection

    if outcome != "approved":
        return
    n = Objection.objects.filter(instance_id=instance.pk, resolved_on__isnull=True).count()
    if n:
        raise WorkflowConflict(_("公示期间有 %(n)s 条异议尚未处理，处理完毕后才能办理“%(s)s”") % {"n": n, "s": step.label})


def _remove_from_poor_list(instance, record, user):
    """销号: set the household's poverty_status to exited and its exit_year (data ``exit_year``, else the
    year of the step), through ``update_household`` with the request's channel (history kept); the lock
    set at county approval is bypassed for this one write."""
    from xiaokang.core.audit import current_channel
    from xiaokang.registry.models import Household
    from xiaokang.registry.services import update_household

    household = Household._base_manager.get(pk=instance.object_id)
    exit_year = int((record.data or {}).get("exit_year") or record.taken_on.year)
    if exit_year < household.identified_year:
        raise WorkflowConflict(_("脱贫年度 %(e)s 早于识别年度 %(i)s") % {"e": exit_year, "i": household.identified_year})
    update_household(household.pk, {"poverty_status": "exited", "exit_year": exit_year}, household.version,
                     user=user, channel=current_channel(), allow_locked=True)


HOUSEHOLD_EXIT_PROCESS = Process(HOUSEHOLD_EXIT, gettext_lazy("贫困户退出"), (
    Step("appraisal", gettext_lazy("民主评议"), VILLAGE, "village"),
    Step("verification", gettext_lazy("村两委和驻村工作队核实"), VILLAGE, "village"),
    Step("household_signature", gettext_lazy("贫困户签字确认"), VILLAGE, "village"),
    Step("notice_start", gettext_lazy("村内公示开始"), VILLAGE, "village"),
    Step("notice_end", gettext_lazy("村内公示结束（登记异议）"), VILLAGE, "village", min_days_after_previous_param=NOTICE_DAYS_PARAM,
         effect=_record_objections),
    Step("township_review", gettext_lazy("乡镇审核"), TOWN, "town", guard=_no_open_objections),
    Step("county_approval", gettext_lazy("县级审批"), COUNTY, "county", locks=True),
    Step("announcement", gettext_lazy("公告"), COUNTY, "county"),
    Step("removal", gettext_lazy("销号"), COUNTY, "county", effect=_remove_from_poor_list),
))


def register_all():
    register(HOUSEHOLD_EXIT_PROCESS)
