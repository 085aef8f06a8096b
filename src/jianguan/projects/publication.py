"""When the public portal's cached answers (jianguan.core.public_cache) go stale: a project enters or leaves the
published states, a published project changes, or something it shows changes (its participants, an
enterprise's or a district's name). Signals rather than calls in the services, so that no path that saves
these rows (services, lifecycle, admin) can forget it; they only drop a cache and record nothing.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_save

from jianguan.core import public_cache

from .models import Participant, Project
from .permissions import PUBLISHED_STATES


def _project_saving(sender, instance: Project, raw=False, **kwargs) -> None:
    if raw:
        return
    if instance.state in PUBLISHED_STATES:
        public_cache.invalidate()
    elif instance.pk is not None:
        before = Project.objects.filter(pk=instance.pk).values_list("state", flat=True).first()
        if before in PUBLISHED_STATES:  # leaves the portal
            public_cache.invalidate()


def _project_deleted(sender, instance: Project, **kwargs) -> None:
    if instance.state in PUBLISHED_STATES:
        public_cache.invalidate()


def _participant_changed(sender, instance: Participant, raw=False, **kwargs) -> None:
    if raw:
        return
    state = Project.objects.filter(pk=instance.project_id).values_list("state", flat=True).first()
    if state is None or state in PUBLISHED_STATES:
        public_cache.invalidate()


def _shown_name_changed(sender, raw=False, **kwargs) -> None:
    if not raw:
        public_cache.invalidate()


def connect() -> None:
    from jianguan.core.models import Jurisdiction
    from jianguan.registry.models import Enterprise

    pre_save.connect(_project_saving, sender=Project, dispatch_uid="publication-project-save")
    post_delete.connect(_project_deleted, sender=Project, dispatch_uid="publication-project-delete")
    post_save.connect(_participant_changed, sender=Participant, dispatch_uid="publication-participant-save")
    post_delete.connect(_participant_changed, sender=Participant, dispatch_uid="publication-participant-delete")
    for model in (Enterprise, Jurisdiction):
        post_save.connect(_shown_name_changed, sender=model, dispatch_uid=f"publication-{model.__name__}")
