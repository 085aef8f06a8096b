import pytest


@pytest.fixture(autouse=True)
def default_limits(request):
    """Transactional tests flush every table, data migrations' rows included: put the default limits back."""
    names = set(request.fixturenames)
    if not {"db", "transactional_db"} & names:
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
    from jianguan.sites import services
    from jianguan.sites.alarms import invalidate_rules
    from jianguan.sites.limits import ensure_defaults
    from jianguan.sites.models import LimitRule

    invalidate_rules()  # a flush removes rules without signals: the process cache must not outlive them
    services.invalidate_cache()  # nor the device identities and last-seen marks of the previous test
    ensure_defaults(LimitRule)
