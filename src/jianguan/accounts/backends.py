"""The session's user loaded with what every permission check reads (department, its jurisdiction) in one query."""

from django.contrib.auth.backends import ModelBackend


class UserWithScopeBackend(ModelBackend):
    def get_user(self, user_id):
        from .models import User

        try:
            user = User._default_manager.select_related("department__jurisdiction", "enterprise").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
