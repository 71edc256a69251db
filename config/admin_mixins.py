from datetime import timedelta

from django.contrib import admin
from django.utils import timezone


class ReadOnlyAdminMixin:
    """Saga records are written by services only: the admin shows them and never edits them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields or [field.name for field in self.model._meta.fields]


AGES = {
    "5m": ("in the last 5 minutes", timedelta(minutes=5)),
    "1h": ("in the last hour", timedelta(hours=1)),
    "1d": ("in the last 24 hours", timedelta(days=1)),
}


def age_filter(field: str, title: str = "age") -> type[admin.SimpleListFilter]:
    """A list filter on how long ago `field` was: the last 5 minutes, hour, day, or older."""

    class AgeFilter(admin.SimpleListFilter):
        parameter_name = "age"

        def lookups(self, request, model_admin):
            return [(key, label) for key, (label, _) in AGES.items()] + [("older", "more than a day ago")]

        def queryset(self, request, queryset):
            value = self.value()
            if value in AGES:
                return queryset.filter(**{f"{field}__gte": timezone.now() - AGES[value][1]})
            if value == "older":
                return queryset.filter(**{f"{field}__lt": timezone.now() - AGES["1d"][1]})
            return queryset

    AgeFilter.title = title
    return AgeFilter


def can_steer(user) -> bool:
    """Who may force a rejection or retry a compensation (ADR 0007)."""
    return user.is_active and user.is_staff and user.has_perm("checkout.change_saga")
