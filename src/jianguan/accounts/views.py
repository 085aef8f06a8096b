from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import services, throttle
from .models import ApiToken
from .services import LoginLocked, login_with_password


class LoginForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    password = forms.CharField(label="密码", widget=forms.PasswordInput)


def login_view(request):
    form = LoginForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST" and form.is_valid():
        try:
            user = login_with_password(request, form.cleaned_data["username"], form.cleaned_data["password"])
        except LoginLocked:
            user, error, status = None, throttle.locked_message(), 429
        if user is not None:
            login(request, user)
            target = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
                target = "home"  # an enterprise user's to-do list, everyone else's project list
            return redirect(target)
        error = error or "用户名或密码错误。"
    return render(request, "accounts/login.html", {"form": form, "error": error}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("login")


@login_required
def account(request):
    """The user's own account: who they are, and their API tokens with a revoke button each."""
    tokens = services.list_tokens(request.user)
    return render(request, "accounts/account.html", {"tokens": tokens, "token_days": settings.API_TOKEN_DAYS})


@login_required
@require_POST
def token_revoke(request, pk: int):
    try:
        token = services.revoke_token(request.user, pk)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已撤销令牌“{token.name}”（jg_{token.prefix}…）。")
    return redirect("account")
