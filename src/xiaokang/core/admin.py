"""The admin's one base class for area-scoped models (ScopedModelAdmin), and the area administrators' group.

``ScopedModelAdmin.get_queryset`` reads ``Model.objects.for_user(request.user)`` (the one scoping
mechanism, ``xiaokang.core.scoping``): a changelist lists only rows inside the user's jurisdiction and
a change page of a row outside it is "not found" (the admin redirects to its index with a message).
Foreign-key choices (select boxes, raw-id and autocomplete inputs) are limited the same way, and a
save that would put a row outside the user's area is refused. A model without area (parameter values)
is readable by staff with the view permission and writable by superusers only. Statisticians and donors
(aggregates only) never get the admin, whatever their group or staff flag (``accounts.AGGREGATE_ONLY_ROLES``).

The admin never shows a full ID or mobile number (the household page's logged display is the one place):
``AdminMaskingMiddleware`` masks them in every admin page and JSON answer (readonly fields, stored import
errors, finding values…), and the member and household forms show their ID and phone number masked and
keep the stored number when the masked one comes back unchanged (``registry.admin``).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.utils.functional import cached_property
from django.urls import NoReverseMatch, reverse
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("小康 · 精准扶贫信息系统 管理后台")
admin.site.site_title = _("小康管理后台")
admin.site.index_title = _("数据管理")
admin.site.site_url = "/"

AREA_ADMIN_GROUP = "辖区管理员"
# Permissions of an area administrator (the demo's staff users): edit the registry and populations of
# their area, read areas, assessments, reasons and parameters. Users are managed by superusers.
AREA_ADMIN_PERMISSIONS = {
    "areas": {"area": ("view",), "areapopulation": ("view", "add", "change", "delete")},
    "registry": {
        "household": ("view", "add", "change", "delete"),
        "member": ("view", "add", "change", "delete"),
        "income": ("view", "add", "change", "delete"),
        "pairing": ("view", "add", "change", "delete"),
        "visit": ("view",),
    },
    "policy": {"householdassessment": ("view",), "assessmentreason": ("view",), "parametervalue": ("view",)},
    "exits": {
        "villageyear": ("view", "add", "change", "delete"),
        "countyyear": ("view", "add", "change"),
        "evaluationsample": ("view",),
        "villageassessment": ("view",), "countyassessment": ("view",), "exitreason": ("view",),
    },
    # Workflows, monitoring, data quality and import batches are worked on the pages (which enforce the
    # steps' roles and levels); the admin shows them read-only.
    "workflow": {"workflowinstance": ("view",), "steprecord": ("view",), "objection": ("view",),
                 "changerequest": ("view",)},
    "monitoring": {"householdevent": ("view", "add", "change"), "earlywarning": ("view",),
                   "monitoringcase": ("view",), "incomecheck": ("view",), "casemeasure": ("view",),
                   "consolidationclass": ("view",)},
    "quality": {"finding": ("view",)},
    "supervision": {"problem": ("view",)},
    "imports": {"importbatch": ("view",), "exportlog": ("view",)},
}


def admin_refused(user) -> bool:
    """Whether ``user`` is kept out of the admin by role: the aggregate-only roles (statisticians and donors;
    the admin is person-level throughout), superusers excepted."""
    from xiaokang.accounts.models import may_see_person_data

    return not may_see_person_data(user)


class AdminMaskingMiddleware:
    """Masks ID and mobile numbers (``logmask.mask_text``: ``430225********1234``, ``138****5678``) in every
    HTML and JSON answer under the admin site, so that no admin page — a readonly field, a stored import
    error, a finding's value, an inline — shows a full number. Masking keeps the length, so the answer's
    Content-Length stays right."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        try:
            prefix = reverse("admin:index")
        except NoReverseMatch:
            return response
        kind = response.get("Content-Type", "")
        if (request.path.startswith(prefix) and not response.streaming
                and kind.startswith(("text/html", "application/json"))):
            from .logmask import mask_text

            charset = response.charset or "utf-8"
            text = response.content.decode(charset)
            masked = mask_text(text)
            if masked != text:
                response.content = masked.encode(charset)
        return response


class MaskSafeModelForm(forms.ModelForm):
    """The base form of every admin of this project. The admin shows ID and mobile numbers masked everywhere
    (``AdminMaskingMiddleware``), form inputs included; a text field sent back holding the masked form of
    its stored value is unchanged — the stored value is kept and the field does not count as changed — so
    a household number that looks like an ID number is never saved masked."""

    def _masked_echo(self, name, data) -> bool:
        from .logmask import mask_text

        if self.instance.pk is None or not isinstance(data, str):
            return False
        stored = getattr(self.instance, name, None) if name in {f.name for f in self.instance._meta.fields} else None
        return isinstance(stored, str) and stored != data and data == mask_text(stored)

    @cached_property
    def changed_data(self):
        return [name for name, bf in self._bound_items()
                if bf._has_changed() and not self._masked_echo(name, bf.data)]

    def clean(self):
        data = super().clean()
        for name, value in list(data.items()):
            if isinstance(self.fields.get(name), forms.CharField) and self._masked_echo(name, value):
                data[name] = getattr(self.instance, name)
        return data


def is_scoped(model) -> bool:
    """A model read through ``for_user`` (its default manager is a ScopedManager)."""
    return hasattr(model._default_manager.all(), "for_user") and hasattr(model, "area_lookup")


def scoped_for(model, user):
    """Rows of ``model`` the user may see; a model without area: all rows (reference data)."""
    if is_scoped(model):
        return model._default_manager.for_user(user)
    return model._default_manager.all()


class ScopeFormfieldsMixin:
    """Limit foreign-key choices to rows inside the user's area (also validates raw-id input)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.remote_field.model
        if "queryset" not in kwargs and is_scoped(related):
            kwargs["queryset"] = related._default_manager.for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedModelAdmin(ScopeFormfieldsMixin, admin.ModelAdmin):
    """Base class of every admin of this project's data models."""

    form = MaskSafeModelForm
    show_full_result_count = False
    list_per_page = 50
    superuser_only_write = False  # set on models without area (global reference data)

    def get_queryset(self, request):
        model = self.model
        if is_scoped(model):
            qs = model.objects.for_user(request.user)
        else:
            qs = model._default_manager.get_queryset()
        ordering = self.get_ordering(request)
        if ordering:
            qs = qs.order_by(*ordering)
        return qs

    def lookup_allowed(self, lookup, value, request=None):
        """Only the filters the list offers (``list_filter``, ``date_hierarchy``). Django allows any lookup on
        a model's own fields in the address; ``?id_number__startswith=…``, ``?phone__regex=…`` or
        ``?errors__icontains=…`` answer "found / not found" and so tell a masked number digit by digit (a
        red-team trial recovered full ID numbers in ~58 requests). Any other lookup answers 400."""
        from django.db.models.constants import LOOKUP_SEP

        offered = {f if isinstance(f, str) else f[0] for f in self.list_filter if isinstance(f, (str, tuple))}
        offered |= {f.parameter_name for f in self.list_filter if isinstance(f, type) and hasattr(f, "parameter_name")}
        if self.date_hierarchy:
            offered.add(self.date_hierarchy)
        if lookup.split(LOOKUP_SEP)[0] not in offered:
            return False
        return super().lookup_allowed(lookup, value, request)

    def has_module_permission(self, request):
        return not admin_refused(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return not admin_refused(request.user) and super().has_view_permission(request, obj)

    def _write_allowed(self, request) -> bool:
        if admin_refused(request.user):
            return False
        if request.user.is_superuser:
            return True
        return is_scoped(self.model) and not self.superuser_only_write

    def has_add_permission(self, request, *args):
        return self._write_allowed(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._write_allowed(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._write_allowed(request) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self.check_in_scope(request, obj)

    def check_in_scope(self, request, obj):
        """Refuse (and roll back: the admin saves in a transaction) a row saved outside the user's area."""
        if is_scoped(type(obj)) and not type(obj)._default_manager.for_user(request.user).filter(pk=obj.pk).exists():
            raise PermissionDenied(_("不能保存管辖区域以外的数据"))

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects + [o for o, _f in formset.changed_objects]:
            self.check_in_scope(request, obj)


class ScopedTabularInline(ScopeFormfieldsMixin, admin.TabularInline):
    form = MaskSafeModelForm
    extra = 0
    show_change_link = True


class ScopedStackedInline(ScopeFormfieldsMixin, admin.StackedInline):
    form = MaskSafeModelForm
    extra = 0
    show_change_link = True


class ReadOnlyScopedModelAdmin(ScopedModelAdmin):
    """Computed results (assessments): viewable, never edited by hand."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FreeTextMaskedAdmin:
    """For models with text people type (``free_text``: field names): the admin shows each through
    ``logmask.mask_free_text`` — an old 15-digit ID number masked too, which the admin's own masking
    (``AdminMaskingMiddleware``, 18-digit and mobile numbers) cannot tell from a code elsewhere. Read-only
    admins only: the raw fields are left out of the form."""

    free_text: tuple = ()

    def get_fields(self, request, obj=None):
        return [name for name in super().get_fields(request, obj) if name not in self.free_text]

    def get_exclude(self, request, obj=None):
        return [*(super().get_exclude(request, obj) or []), *self.free_text]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(f"{name}_shown" for name in self.free_text)]

    def __getattr__(self, item):
        if item.endswith("_shown") and item[:-6] in type(self).free_text:
            from .logmask import mask_free_text

            field = self.model._meta.get_field(item[:-6])

            def shown(obj):
                return mask_free_text(getattr(obj, field.name)) or "—"

            shown.short_description = field.verbose_name
            return shown
        raise AttributeError(item)


def area_admin_group() -> Group:
    """The 辖区管理员 group with the permissions above (created or updated)."""
    group, _created = Group.objects.get_or_create(name=AREA_ADMIN_GROUP)
    perms = []
    for app_label, models in AREA_ADMIN_PERMISSIONS.items():
        for model, actions in models.items():
            codenames = [f"{a}_{model}" for a in actions]
            perms += list(Permission.objects.filter(content_type__app_label=app_label,
                                                    content_type__model=model, codename__in=codenames))
    group.permissions.set(perms)
    return group


def grant_area_admin_permissions(user) -> None:
    """Make ``user`` an area administrator: staff, in the 辖区管理员 group. Their area is ``user.area``."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(area_admin_group())
