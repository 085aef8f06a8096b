from django import forms
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import throttle
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
                target = "projects:list"
            return redirect(target)
        error = error or "用户名或密码错误。"
    return render(request, "accounts/login.html", {"form": form, "error": error}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("login")
