from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from . import throttle
from .services import LoginLocked, login_with_password


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The Django admin's login form through the shared login service: the same throttle as the login page and
    the API token endpoint, and a clear "locked" message instead of "wrong password" while it holds."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = login_with_password(self.request, username, password)
            except LoginLocked:
                raise ValidationError(throttle.locked_message(), code="locked") from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
