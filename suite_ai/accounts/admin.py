from django.contrib import admin

from suite_ai.accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("sub", "email", "name", "is_active", "is_staff", "created_at")
    search_fields = ("sub", "email", "name")
    exclude = ("password",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at")
    readonly_fields = ("token_hash", "prefix")
