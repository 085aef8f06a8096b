"""Who may see and do what in the smart-site room: devices (and who must ask the district bureau before
changing a monitor), readings, alarms, commands, limits and the real-name register. Pages, API, live streams,
CSV exports, services and the buttons a page shows ask here; nothing else derives these rules. A project's own
read scope comes from `projects.permissions`.

Vocabulary: `visible_<things>(user)` querysets (not in it → 404) and `may_<action>(user, obj)` checks
(readable but not allowed → 403, raised by the services through `core.permissions.require`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from jianguan.accounts.models import DataSharingRule, User
from jianguan.core.models import Jurisdiction
from jianguan.projects import permissions as project_permissions
from jianguan.projects.models import ParticipantRole, Project

from .models import OFFLINE_PARAMETER, Alarm, Device, DeviceChangeRequest, LimitRule

Role = User.Role
Part = DataSharingRule.Resource
# Another department reads the room's data under the data-sharing parts: devices, readings, alarms and commands
# are the monitoring part; the real-name register, gate attendance and crane operator checks the workforce part.
MONITORING, WORKFORCE = Part.SITE_MONITORING, Part.SITE_WORKFORCE


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_active


# --- devices and their readings -------------------------------------------------------------------------


def monitored_projects(user):
    """The projects whose monitoring (devices, readings, alarms) the user may read."""
    return project_permissions.visible_projects(user, MONITORING)


def visible_devices(user) -> QuerySet[Device]:
    """Devices of the projects whose monitoring the user may read."""
    return Device.objects.filter(project__in=monitored_projects(user))


def may_manage_devices(user, project: Project) -> bool:
    """Register, edit, retire and re-key a project's devices and keep its real-name register: the district
    bureau (or the city's), and the project's general contractor, who installs and runs them."""
    if project_permissions.is_regulator_of(user, project):
        return True
    return ParticipantRole.GENERAL_CONTRACTOR in project_permissions.participant_roles(user, project)


def may_manage_device(user, device: Device) -> bool:
    return may_manage_devices(user, device.project)


# --- changes to a monitor of a permitted project: who acts directly, who must ask -----------------------
# From the permit on, a project's monitors watch the party that runs them: the general contractor could
# otherwise switch its own dust monitor off (retire it), lock it out (a new password or token the device does
# not have, a strict dialect its vendor's frames fail, a network it is not in), move it away from the dust or
# stretch its interval so that its silence goes unnoticed. Those
# changes by the contractor become requests the district bureau decides (devices/changes.py); the bureau's
# own changes apply at once. Before the permit (draft, submitted, under review) the contractor changes freely.
# Sprinklers and fog cannons (actuators) are the site's own equipment, commanded by the platform: taking a
# broken one out of service removes no evidence, so the contractor keeps changing them directly. Gates and
# cameras are evidence like the monitors (who entered the site, 挂靠 signals) and need approval.
CHANGE_CONTROLLED_KINDS = frozenset(Device.Kind.values) - {Device.Kind.ACTUATOR}


def change_controlled(device: Device) -> bool:
    """Whether changing this device's service, keys, place or interval needs the district bureau."""
    return device.kind in CHANGE_CONTROLLED_KINDS and device.project.state in project_permissions.PUBLISHED_STATES


def may_change_device_directly(user, device: Device) -> bool:
    """Retire, restore, re-key, move or re-time the device at once: its project's regulators always, the
    general contractor only while the device is not under change control."""
    if project_permissions.is_regulator_of(user, device.project):
        return True
    return may_manage_device(user, device) and not change_controlled(device)


def may_request_device_change(user, device: Device) -> bool:
    """Ask the district bureau for such a change: the device's other manager (the general contractor) when the
    device is under change control."""
    return may_manage_device(user, device) and not may_change_device_directly(user, device)


def may_decide_device_change(user, change: DeviceChangeRequest) -> bool:
    """Approve or reject a pending request: the regulators of its project (the district bureau, the city's)."""
    return change.state == DeviceChangeRequest.State.PENDING and project_permissions.is_regulator_of(
        user, change.project
    )


def decidable_changes(user, changes) -> set[int]:
    """Of these requests, the ids the user may decide now (a page of them in one query)."""
    pending = [c for c in changes if c.state == DeviceChangeRequest.State.PENDING]
    if not pending:
        return set()
    regulated = set(
        project_permissions.regulated_projects(user)
        .filter(pk__in={c.project_id for c in pending})
        .values_list("pk", flat=True)
    )
    return {c.pk for c in pending if c.project_id in regulated}


def visible_device_changes(user) -> QuerySet[DeviceChangeRequest]:
    """Requests of the projects the user reads; not other departments' business (nor anonymous readers')."""
    if not _signed_in(user) or user.role == Role.DEPT_OFFICER:
        return DeviceChangeRequest.objects.none()
    return DeviceChangeRequest.objects.filter(project__in=project_permissions.visible_projects(user)).select_related(
        "project", "device", "requested_by__enterprise", "decided_by"
    )


def district_regulators(project: Project) -> QuerySet[User]:
    """The district bureau's regulators of the project (of its jurisdiction or one above it): those for whom
    is_regulator_of holds by district, who hear of its device change requests and guessed passwords."""
    ids = []
    jurisdiction = project.jurisdiction
    while jurisdiction is not None and len(ids) < 10:
        ids.append(jurisdiction.pk)
        jurisdiction = jurisdiction.parent
    return User.objects.filter(is_active=True, role=Role.DISTRICT_REGULATOR, department__jurisdiction_id__in=ids)


def may_decide_device_changes(user) -> bool:
    """Whether the user is one who decides requests at all (the approval queue in the navigation)."""
    return _signed_in(user) and user.role in (Role.BUREAU_ADMIN, Role.DISTRICT_REGULATOR)


def may_command(user, device: Device) -> bool:
    """Switch a fog cannon / sprinkler by hand: regulators of its project only."""
    return project_permissions.is_regulator_of(user, device.project)


# --- alarms -----------------------------------------------------------------------------------------------


def visible_alarms(user) -> QuerySet[Alarm]:
    return Alarm.objects.filter(project__in=monitored_projects(user)).select_related("project", "device", "rule")


def may_acknowledge(user, alarm: Alarm) -> bool:
    """The project's regulators and its participants (the site answers for its alarms)."""
    project = alarm.project
    return project_permissions.is_regulator_of(user, project) or bool(
        project_permissions.participant_roles(user, project)
    )


def may_resolve(user, alarm: Alarm) -> bool:
    return project_permissions.is_regulator_of(user, alarm.project)


def alarm_powers(user, project: Project | None = None) -> tuple[bool, bool]:
    """(may acknowledge, may resolve) for a page's buttons: for one project exactly; for the alarm list by role,
    which agrees for every alarm in visible_alarms(user) (a district regulator sees only its jurisdiction's
    projects, an enterprise user only those it takes part in). The services still check each alarm."""
    if not _signed_in(user):
        return False, False
    if project is not None:
        regulator = project_permissions.is_regulator_of(user, project)
        return regulator or bool(project_permissions.participant_roles(user, project)), regulator
    regulator = user.role in (Role.BUREAU_ADMIN, Role.DISTRICT_REGULATOR)
    return regulator or user.role == Role.ENTERPRISE_USER, regulator


# --- limits -----------------------------------------------------------------------------------------------
# The city bureau's administrator edits the city-wide rules (jurisdiction empty); a district regulator
# creates, edits and deactivates its own jurisdiction's overrides, never city-wide rules nor another
# district's. Everyone else may not see the limit pages.


def may_view_limits(user) -> bool:
    if not _signed_in(user):
        return False
    if user.role == Role.BUREAU_ADMIN:
        return True
    return user.role == Role.DISTRICT_REGULATOR and user.jurisdiction is not None


def own_limit_district(user) -> Jurisdiction | None:
    """The jurisdiction whose overrides a district regulator keeps (None for anyone else)."""
    if not may_view_limits(user) or user.role != Role.DISTRICT_REGULATOR:
        return None
    jurisdiction = user.jurisdiction
    return jurisdiction if jurisdiction.parent_id is not None else None


def may_create_limit(user) -> bool:
    return may_view_limits(user) and (user.role == Role.BUREAU_ADMIN or own_limit_district(user) is not None)


def may_edit_limit(user, rule: LimitRule) -> bool:
    if not may_view_limits(user):
        return False
    if user.role == Role.BUREAU_ADMIN:
        return rule.jurisdiction_id is None
    district = own_limit_district(user)
    return district is not None and rule.jurisdiction_id == district.pk


def visible_limit_rules(user) -> QuerySet[LimitRule]:
    """City-wide rules and the user's own district's; the bureau reads every district's overrides."""
    qs = LimitRule.objects.select_related("jurisdiction").exclude(parameter=OFFLINE_PARAMETER)  # not a limit
    if not may_view_limits(user):
        return qs.none()
    if user.role == Role.BUREAU_ADMIN:
        return qs
    return qs.filter(Q(jurisdiction__isnull=True) | Q(jurisdiction=user.jurisdiction))


# --- the real-name register (workers, gates, crane operators) -------------------------------------------


def may_read_workforce(user, project: Project) -> bool:
    """The register, the gate's attendance and the crane operator checks (names, masked ID numbers)."""
    return project_permissions.may_read_part(user, project, WORKFORCE)


def may_manage_workers(user, project: Project) -> bool:
    return may_manage_devices(user, project)
