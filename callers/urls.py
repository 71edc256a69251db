from django.urls import path

from . import apis

urlpatterns = [
    path("auth/tokens", apis.TokensApi.as_view(), name="auth-tokens"),
]
