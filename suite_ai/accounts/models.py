"""Users are identified by their OIDC ``sub``, as in every La Suite service."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models

TOKEN_PREFIX = "sai_"


class UserManager(BaseUserManager["User"]):
    def create_user(self, sub: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(sub=sub, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, sub: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(sub, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sub = models.CharField("OIDC subject", max_length=255, unique=True)
    email = models.EmailField(blank=True, default="")
    name = models.CharField(max_length=255, blank=True, default="")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "sub"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.email or self.sub


def hash_token(token: str) -> str:
    """Tokens are high-entropy random strings, so a fast unsalted hash is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A local API token, for development and scripts. Only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, default="")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def generate() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)
