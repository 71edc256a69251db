from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import IdField

from .models import Scope
from .tokens import user_token_mint


class TokenIn(serializers.Serializer):
    userId = IdField(label="User id")


class TokenOut(serializers.Serializer):
    userId = serializers.CharField()
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`.")
    expiresIn = serializers.IntegerField(help_text="Seconds.")


class TokensApi(APIView):
    """A token for one end user (a service key with the `users:token` scope, or an operator): with it, that
    user may place orders for, pay from and read their own account only."""

    scopes = {"POST": Scope.USERS_TOKEN}

    @extend_schema(request=TokenIn, responses={201: TokenOut})
    def post(self, request):
        asked = TokenIn(data=request.data)
        asked.is_valid(raise_exception=True)
        user_id = asked.validated_data["userId"]
        token = user_token_mint(user_id=user_id)
        return Response(
            {"userId": user_id, "token": token, "expiresIn": int(settings.SAGA_USER_TOKEN_SECONDS)},
            status=status.HTTP_201_CREATED,
        )
