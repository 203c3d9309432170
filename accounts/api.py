"""`/api/v1/auth/login` and `/api/v1/auth/refresh`: JWT access and refresh tokens.

Logging in spends the same budget of failed logins as the pages and the admin
(accounts.login_budget): a locked login answers 429 with `Retry-After`, even with the right
password, unless the client holds the cookie of a device known to the account.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model, user_logged_in
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.lockout import REASONS, retry_after_seconds
from accounts.login_budget import login_lock_of
from restapi.errors import error_responses
from restapi.json_body import validated_body


class LoginLocked(Throttled):
    extra_detail_singular = "Try again in {wait} second, or ask an administrator to unlock it."
    extra_detail_plural = "Try again in {wait} seconds, or ask an administrator to unlock it."


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)  # User.username's
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer):
    refresh_token = serializers.CharField()


class AccessTokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds the access token is valid.")


class TokensSerializer(AccessTokenSerializer):
    refresh_token = serializers.CharField(help_text="Send it to /api/v1/auth/refresh.")


class TokenApi(APIView):
    # The base of the token endpoints (no docstring: the schema would show it on both).
    # Their callers come without credentials.

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request: Request) -> str:
        # Without it DRF would turn the 401 of bad credentials into a 403.
        return 'Bearer realm="api"'


class LoginApi(TokenApi):
    @extend_schema(
        summary="Log in: an access token and a refresh token",
        auth=[],
        request=LoginSerializer,
        responses={200: TokensSerializer, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        credentials = validated_body(serializer_class=LoginSerializer, request=request)
        user = authenticate(request, **credentials)
        if user is None:
            lock = login_lock_of(request, credentials)
            if lock is not None:
                raise LoginLocked(wait=retry_after_seconds(lock), detail=REASONS[lock.scope])
            raise AuthenticationFailed("invalid username or password")
        user_logged_in.send(sender=type(user), request=request, user=user)
        refresh = RefreshToken.for_user(user)
        return Response({**_access(refresh), "refresh_token": str(refresh)})


class RefreshApi(TokenApi):
    @extend_schema(
        summary="A new access token for a refresh token",
        auth=[],
        request=RefreshSerializer,
        responses={200: AccessTokenSerializer, **error_responses(400)},
    )
    def post(self, request: Request) -> Response:
        body = validated_body(serializer_class=RefreshSerializer, request=request)
        try:
            refresh = RefreshToken(body["refresh_token"])
        except TokenError as error:
            raise AuthenticationFailed(str(error)) from None
        if not _still_valid(refresh):
            raise AuthenticationFailed("the account is inactive or its password changed")
        return Response(_access(refresh))


def _access(refresh: RefreshToken) -> dict[str, Any]:
    return {
        "access_token": str(refresh.access_token),
        "token_type": "Bearer",
        "expires_in": int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
    }


def _still_valid(refresh: RefreshToken) -> bool:
    """The token's user still exists, may log in, and has not changed password since."""
    user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
    user = get_user_model().objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}).first()
    if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
        return False
    return not jwt_settings.CHECK_REVOKE_TOKEN or refresh.payload.get(
        jwt_settings.REVOKE_TOKEN_CLAIM
    ) == get_md5_hash_password(user.password)
