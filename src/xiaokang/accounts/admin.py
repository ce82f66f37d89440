from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "role", "area", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_active")
    fieldsets = BaseUserAdmin.fieldsets + (("辖区与角色", {"fields": ("role", "area")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("辖区与角色", {"fields": ("role", "area")}),)
    raw_id_fields = ("area",)
