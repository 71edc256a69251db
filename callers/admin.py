from django import forms
from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from .models import Scope, ServiceKey

admin.site.unregister(APIKey)  # the library's own model, unused: our keys carry scopes


class ServiceKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = ServiceKey
        fields = ["name", "scopes", "expiry_date", "revoked"]


@admin.register(ServiceKey)
class ServiceKeyAdmin(APIKeyModelAdmin):
    """Made here, the key is shown once in a message; revoking cannot be undone."""

    form = ServiceKeyForm
    list_display = [*APIKeyModelAdmin.list_display, "scopes"]
    list_filter = ["revoked", "created"]
