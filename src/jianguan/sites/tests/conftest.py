import pytest


@pytest.fixture(autouse=True)
def default_limits(request):
    """Transactional tests flush every table, data migrations' rows included: put the default limits back."""
    names = set(request.fixturenames)
    if not {"db", "transactional_db"} & names:
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
    from jianguan.sites.alarms.rules import invalidate_rules
    from jianguan.sites.devices import identity
    from jianguan.sites.ingest import store
    from jianguan.sites.limits.defaults import ensure_defaults
    from jianguan.sites.models import LimitRule

    invalidate_rules()  # a flush removes rules without signals: the process cache must not outlive them
    identity.invalidate_cache()  # nor the device identities of the previous test
    store.forget_last_seen()  # nor its last-seen marks
    ensure_defaults(LimitRule)
