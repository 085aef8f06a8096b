"""The session's user loaded with what every permission check reads (department, its jurisdiction) in one query."""

from asgiref.sync import sync_to_async
from django.contrib.auth.backends import ModelBackend


class UserWithScopeBackend(ModelBackend):
    def get_user(self, user_id):
        from .models import User

        try:
            user = User._default_manager.select_related("department__jurisdiction", "enterprise").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):  # the live-alarm streams (async views) load the user the same way
        return await sync_to_async(self.get_user)(user_id)
