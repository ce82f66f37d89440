"""Users (用户) with one jurisdiction area (管辖区域) each; every scoped read is limited to it."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("市级管理员")
    COUNTY_ADMIN = "county_admin", _("县级管理员")
    TOWN_ADMIN = "town_admin", _("乡镇管理员")
    VILLAGE_ADMIN = "village_admin", _("村级管理员")
    PAIRING_CADRE = "pairing_cadre", _("帮扶责任人")
    INSPECTOR = "inspector", _("督查员")
    STATISTICIAN = "statistician", _("统计员")
    DONOR = "donor", _("爱心人士")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.VILLAGE_ADMIN)
    area = models.ForeignKey("areas.Area", to_field="code", db_column="area_code", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="users", verbose_name=_("管辖区域"))

    def get_full_name(self):
        """The name in the Chinese order — 姓 then 名, no space (郭示杰) —, else the login."""
        return f"{self.last_name.strip()}{self.first_name.strip()}" or self.get_username()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def can_import(self) -> bool:
        """Whether the import pages (upload, batches) are open to this user (``IMPORT_ROLES``, superusers)."""
        return self.is_superuser or self.role in IMPORT_ROLES


# Roles that may edit a household on the web (in their own area; superusers too).
EDIT_ROLES = frozenset({Role.CITY_ADMIN, Role.COUNTY_ADMIN, Role.TOWN_ADMIN, Role.VILLAGE_ADMIN, Role.SYSTEM_ADMIN})
# Roles that may import files (upload, validate, apply batches) in their area: county/town/village
# administrators and the system administrator.
IMPORT_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWN_ADMIN, Role.VILLAGE_ADMIN, Role.SYSTEM_ADMIN})
# Roles that may display a member's full ID number (each display is logged): county/town/village admins.
FULL_ID_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWN_ADMIN, Role.VILLAGE_ADMIN})


def can_edit_registry(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in EDIT_ROLES)


# Roles that see aggregates only (统计员, 爱心人士): no person-level page, export, upload, workflow or admin.
AGGREGATE_ONLY_ROLES = frozenset({Role.STATISTICIAN, Role.DONOR})


def may_see_person_data(user) -> bool:
    """Whether the user may open person-level pages (household list and file, edit, full ID, workflows, the
    admin): everyone signed in but the aggregate-only roles; superusers always."""
    return user.is_authenticated and (user.is_superuser or user.role not in AGGREGATE_ONLY_ROLES)


def can_view_full_id(user) -> bool:
    return user.is_authenticated and user.role in FULL_ID_ROLES and bool(user.area_id)
