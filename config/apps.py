from django.contrib.admin.apps import AdminConfig


class SagaAdminConfig(AdminConfig):
    """django.contrib.admin, with the control room's site as the default one."""

    default_site = "config.admin_site.SagaAdminSite"
