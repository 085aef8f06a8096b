from django.conf import settings


def platform(request):
    context = {"PLATFORM_NAME": "监管 JianGuan", "CITY_NAME": "临沂市", "DEBUG": settings.DEBUG}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from jianguan.notify.services import unread_for

        context["UNREAD_COUNT"] = unread_for(user).count()
        from jianguan.sites import permissions as site_permissions

        if site_permissions.may_decide_device_changes(user):  # the approval queue in the navigation
            pending = site_permissions.visible_device_changes(user).filter(state="pending")
            context["DEVICE_CHANGES_PENDING"] = pending.count()
    if user is not None and getattr(user, "role", None) == "bureau_admin":
        from jianguan.ledger.services import failed_audit

        context["LEDGER_ALARM"] = failed_audit()
    return context
