from django.conf import settings


def platform(request):
    context = {"PLATFORM_NAME": "监管 JianGuan", "CITY_NAME": "临沂市", "DEBUG": settings.DEBUG}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from jianguan.notify.services import unread_for

        context["UNREAD_COUNT"] = unread_for(user).count()
    if user is not None and getattr(user, "role", None) == "bureau_admin":
        from jianguan.ledger.services import failed_audit

        context["LEDGER_ALARM"] = failed_audit()
    return context
