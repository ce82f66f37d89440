from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from xiaokang.core.admin import (FreeTextMaskedAdmin, MaskSafeModelForm, ReadOnlyScopedModelAdmin, ScopedModelAdmin,
                                 ScopedStackedInline, ScopedTabularInline)

from xiaokang.accounts.models import can_view_full_id
from xiaokang.core.logmask import mask_phone

from .forms import MaskedNumbersForm
from .idnumber import mask_id_number
from .models import FullIdView, Household, Income, Member, Pairing, Visit


def _household_of(obj):
    if obj is None:
        return None
    return obj if isinstance(obj, Household) else getattr(obj, "household", None)


class LockedReadOnly:
    """A household approved by a locking workflow step (county approval of its exit, 审批锁定) is read-only
    here too, with its members and incomes: it changes only through an approved change request."""

    def _locked(self, obj) -> bool:
        from xiaokang.workflow.engine import is_locked

        return is_locked(_household_of(obj))

    def has_change_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_delete_permission(request, obj)

    def has_add_permission(self, request, *args):  # inlines pass the parent object
        if args and args[0] is not None and self._locked(args[0]):
            return False
        return super().has_add_permission(request, *args)


def record_state(model, values: dict) -> str:
    """A digest of a record's stored values (every concrete field but the key): what the admin form of a
    member or income carries, since those records have no version number of their own."""
    import hashlib

    names = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    return hashlib.sha256(repr([str(values[n]) for n in names]).encode()).hexdigest()[:32]


class RecordStateForm(MaskSafeModelForm, MaskedNumbersForm):
    """The admin form of a member or an income (standalone or inline under its household) with the state the
    record had when the form was opened (乐观锁, like the household's version): saving after someone else
    changed the record (web form, admin, import) is refused with a clear message and nothing is written."""

    expected_state = forms.CharField(widget=forms.HiddenInput, required=False)
    masked = {"id_number": mask_id_number}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            model = type(self.instance)
            self.fields["expected_state"].initial = record_state(
                model, {f.attname: getattr(self.instance, f.attname) for f in model._meta.concrete_fields})

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None and self.has_changed():
            model = type(self.instance)
            names = [f.attname for f in model._meta.concrete_fields]
            # Locked until the admin's transaction ends: no other save slips in between check and save.
            current = model._base_manager.select_for_update().filter(pk=self.instance.pk).values(*names).first()
            if current is None or data.get("expected_state") != record_state(model, current):
                raise ValidationError(
                    _("该记录（%(what)s）在您打开后已被他人修改，您的修改未保存；请重新打开后再改")
                    % {"what": str(self.instance)}, code="conflict")
        return data


class BirthYearOnly:
    """For a user who may not see full ID numbers, a member's birth date shows its year only (出生年份): the
    masked digits of an ID number are exactly the birth date, so the two side by side gave the full number
    back (a red-team trial). The roles that may see full numbers keep the editable date."""

    SHOWN = {"birth_date": "birth_year", "entered_on": "entered_shown"}

    def _swap(self, fields):
        out = []
        for f in fields:
            if isinstance(f, (list, tuple)):
                out.append(type(f)(self._swap(f)))
            else:
                out.append(self.SHOWN.get(f, f))
        return out

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if can_view_full_id(request.user) else self._swap(fields)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if can_view_full_id(request.user) else [*readonly, *self.SHOWN.values()]

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        return exclude if can_view_full_id(request.user) else [*exclude, *self.SHOWN]

    @admin.display(description=_("出生年份"))
    def birth_year(self, obj):
        return f"{obj.birth_date.year}" if obj and obj.birth_date else "—"

    @admin.display(description=_("迁入（新增）日期"))
    def entered_shown(self, obj):
        """A newborn's entry date is its birth date: the year only."""
        if not obj or not obj.entered_on:
            return "—"
        return f"{obj.entered_on.year}" if obj.entry_reason == "newborn" else f"{obj.entered_on:%Y-%m-%d}"


class MemberInline(BirthYearOnly, LockedReadOnly, ScopedStackedInline):
    model = Member
    form = RecordStateForm
    fields = (
        ("name", "document_type", "id_number"), ("sex", "birth_date", "relation", "ethnicity"),
        ("education_level", "schooling_status", "not_attending_reason"),
        ("health_status", "disability_grade", "labour_capacity", "work_months", "work_place"),
        ("basic_medical_insurance", "serious_illness_insurance", "medical_aid", "pension_insurance"),
        ("on_dibao", "is_tekun"), ("entered_on", "entry_reason", "left_on", "leave_reason"),
        "expected_state",  # hidden: the record as opened (without it every save of the household was a conflict)
    )


class IncomeInline(LockedReadOnly, ScopedTabularInline):
    model = Income
    form = RecordStateForm
    fields = ("year", "wage", "public_welfare_post", "business_income", "business_expenses", "property_income",
              "asset_dividend", "family_planning", "dibao", "tekun", "pension", "ecological", "other_transfer",
              "expected_state")


class HouseholdAdminForm(MaskSafeModelForm, MaskedNumbersForm):
    """The admin's household form with the version read when it was opened (乐观锁, like the web edit form):
    saving after someone else saved the household (web form, admin, import, workflow) is refused with the
    conflict message and nothing is written — the household, its members and incomes alike."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    masked = {"phone": mask_phone}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        from .services import EditConflict

        data = super().clean()
        if self.instance.pk is not None:
            expected = data.get("expected_version")
            # Locked until the admin's transaction ends: no other save slips in between check and save.
            current = (Household._base_manager.select_for_update().filter(pk=self.instance.pk)
                       .values_list("version", flat=True).first())
            if expected is None or current != expected:
                raise ValidationError(str(EditConflict(self.instance.pk, expected, current)), code="conflict")
        return data


@admin.register(Household)
class HouseholdAdmin(LockedReadOnly, ScopedModelAdmin):
    form = HouseholdAdminForm
    list_display = ("household_number", "area", "household_type", "main_cause", "identified_year",
                    "poverty_status", "exit_year")
    list_filter = ("poverty_status", "household_type", "main_cause", "identified_year", "exit_year",
                   "identification_standard")
    search_fields = ("=household_number", "members__name", "=members__id_number")
    list_select_related = ("area",)
    autocomplete_fields = ("area",)
    inlines = (MemberInline, IncomeInline)
    readonly_fields = ("version", "created_at", "updated_at")
    ordering = ("household_number",)
    fieldsets = (
        (_("基本信息"), {"fields": ("household_number", "area", "natural_village", "phone", "household_type",
                                 "identification_standard", "main_cause", "other_causes", "identified_year",
                                 "poverty_status", "exit_year", "return_year", "pairing_cadre")}),
        (_("两不愁"), {"fields": ("food_secure", "clothing_secure")}),
        (_("住房"), {"fields": ("housing_grade", "housing_renovated_year", "housing_area_m2")}),
        (_("饮水"), {"fields": ("water_scarce_area", "water_quantity_lpd", "water_quality_ok", "water_piped",
                              "water_fetch_minutes", "water_fetch_distance_m", "water_fetch_vertical_m",
                              "water_outage_days")}),
        (_("土地与生产"), {"fields": ("farmland_mu", "irrigated_mu", "forest_mu", "cooperative_member",
                                  "road_distance_km")}),
        (_("记录"), {"fields": ("is_demo", "version", "created_at", "updated_at", "expected_version")}),
    )


@admin.register(Member)
class MemberAdmin(BirthYearOnly, LockedReadOnly, ScopedModelAdmin):
    form = RecordStateForm
    list_display = ("name", "masked_id_number", "household", "relation", "sex", "birth_year", "health_status",
                    "left_on")
    list_filter = ("relation", "sex", "health_status", "labour_capacity", "schooling_status", "on_dibao")
    search_fields = ("name", "=id_number", "=household__household_number")
    list_select_related = ("household",)
    autocomplete_fields = ("household",)
    ordering = ("household_id", "relation", "birth_date")

    @admin.display(description=_("证件号码"), ordering="id_number")
    def masked_id_number(self, obj):
        return mask_id_number(obj.id_number)


@admin.register(Income)
class IncomeAdmin(LockedReadOnly, ScopedModelAdmin):
    form = RecordStateForm
    list_display = ("household", "year", "wage", "business_income", "business_expenses", "property_income",
                    "dibao", "pension")
    list_filter = ("year",)
    search_fields = ("=household__household_number",)
    list_select_related = ("household",)
    autocomplete_fields = ("household",)
    ordering = ("household_id", "year")


@admin.register(FullIdView)
class FullIdViewAdmin(ReadOnlyScopedModelAdmin):
    """The log of full ID and phone number displays: read-only (never changed or deleted in the application)."""

    list_display = ("viewed_at", "username", "field", "member", "household", "area_code", "ip_address")
    list_filter = ("field", "viewed_at")
    search_fields = ("=username", "=household__household_number")
    list_select_related = ("member", "household")
    ordering = ("-viewed_at",)


@admin.register(Pairing)
class PairingAdmin(ScopedModelAdmin):
    """Cadre–household pairings (帮扶结对) of the area: the households a pairing cadre may read."""

    list_display = ("household", "cadre", "started_on", "ended_on")
    list_filter = ("ended_on",)
    search_fields = ("=household__household_number", "cadre__username")
    list_select_related = ("household", "cadre")
    autocomplete_fields = ("household",)
    ordering = ("household_id", "-started_on")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "cadre":  # the pairing cadres of the administrator's area (users are not scoped)
            from xiaokang.accounts.models import User

            cadres = User.objects.filter(role="pairing_cadre")
            if not request.user.is_superuser:
                own = getattr(request.user, "area_id", None) or ""
                cadres = cadres.filter(area__code__startswith=own) if own else cadres.none()
            kwargs["queryset"] = cadres.order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Visit)
class VisitAdmin(FreeTextMaskedAdmin, ReadOnlyScopedModelAdmin):
    """Visits (帮扶走访记录) of the area, read only: recorded by the pairing cadres on the household page or the
    API, never changed or deleted through the application."""

    list_display = ("visited_on", "household", "cadre", "mode", "channel", "created_at")
    free_text = ("situation", "needs", "measures")
    list_filter = ("mode", "visited_on")
    search_fields = ("=household__household_number", "cadre__username")
    list_select_related = ("household", "cadre")
    ordering = ("-visited_on", "-id")
