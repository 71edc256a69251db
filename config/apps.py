from django.contrib.admin.apps import AdminConfig


class SagaAdminConfig(AdminConfig):
    """django.contrib.admin, with the control room's site as the default one."""

    default_site = "config.admin_site.SagaAdminSite"

    def ready(self) -> None:
        super().ready()
        from django.db.models.signals import post_migrate

        from config.operators import operators_group_ensure

        post_migrate.connect(operators_group_ensure, dispatch_uid="config.operators")
