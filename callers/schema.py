"""How the OpenAPI schema names our three kinds of credentials (drf-spectacular extensions)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ServiceKeyScheme(OpenApiAuthenticationExtension):
    target_class = "callers.authentication.ServiceKeyAuthentication"
    name = "serviceKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: a service key (manage.py apikey create, or the admin), with scopes.",
        }


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "callers.authentication.UserTokenAuthentication"
    name = "userToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An end user's token (POST /auth/tokens)."}


class OperatorSessionScheme(OpenApiAuthenticationExtension):
    target_class = "callers.authentication.OperatorSessionAuthentication"
    name = "operatorSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid", "description": "A staff login to /admin/."}
