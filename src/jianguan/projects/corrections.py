"""Corrections of a filing: a wrongly registered participant, key person or document removed or replaced.

Three paths, by the project's state (permissions.CORRECTION_STAGES):
- before submission (草稿): the applicant corrects freely; the audit log keeps what was done;
- after submission, until the permit (预审待补正, 审查中, 退回修改 …): the applicant removes or replaces with a
  reason; the old registration is kept in the correction record (`Correction`), the audit log and the
  evidence log, and the reviewing district bureau is told of a correction made while it reviews;
- after the permit: only through a 变更 request the project's regulator approves (changes.py), which applies
  the change through this module's `apply_*` functions, naming the request.

A document is never deleted: it is withdrawn (its versions and their evidence-log entries stay, it no longer
counts towards the checklist), or replaced by a new version with a note (services.upload_document).
Who may: permissions.may_correct (else 403); a state in which a correction takes another path: 409."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from jianguan.core import audit
from jianguan.core.permissions import require
from jianguan.ledger import services as ledger
from jianguan.registry.models import Enterprise, Person

from . import notices, permissions, pickers
from .lifecycle import TransitionError
from .models import (
    Correction,
    Document,
    DocumentVersion,
    KeyPerson,
    KeyPostRole,
    Participant,
    ParticipantRole,
    Project,
    ProjectChangeRequest,
    State,
)

Stage = Correction.Stage
REASON_REQUIRED = "提交申报后的更正须说明原因（记入更正记录，审查人员可见）"
REASON_TOO_LONG = "原因最多 200 字"


class NotNow(TransitionError):
    """The correction is not taken this way in the project's state (409): after the permit it is a 变更
    request; a refused or archived project is not corrected."""


# --- labels as the record keeps them --------------------------------------------------------------------------


def participant_label(participant: Participant) -> str:
    ent = participant.enterprise
    return f"{participant.get_role_display()}：{ent.name}（{ent.uscc}）"


def person_label(role: str, person: Person) -> str:
    return f"{KeyPostRole(role).label}：{person.name}（{person.id_number_masked}）"


def document_label(document: Document) -> str:
    return str(document)


# --- who, when, why -------------------------------------------------------------------------------------------


def _stage(user, project: Project, what: str) -> str:
    """The correction stage, after the checks: not the applicant → 403; after the permit or in a final state → 409."""
    require("applicant" in permissions.participant_roles(user, project), f"只有申报单位可以更正{what}")
    stage = permissions.correction_stage(project)
    if stage == Stage.CHANGE:
        raise NotNow(f"项目已取得施工许可：{what}的更正须提出变更申请，经区县住建部门批准后生效", "change_required")
    if stage is None:
        raise NotNow(f"项目当前状态为“{project.get_state_display()}”，不能更正{what}", "wrong_state")
    return stage


def clean_reason(stage: str, reason: str | None) -> str:
    reason = (reason or "").strip()
    if stage != Stage.DRAFT and not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    if len(reason) > 200:
        raise ValidationError({"reason": REASON_TOO_LONG})
    return reason


def _locked(project: Project) -> Project:
    return Project.objects.select_for_update().select_related("jurisdiction").get(pk=project.pk)


# --- the direct corrections -----------------------------------------------------------------------------------


@transaction.atomic
def remove_participant(user, participant: Participant, reason: str = "") -> Correction:
    project = _locked(participant.project)
    stage = _stage(user, project, "参建单位")
    return apply_remove_participant(user, participant, stage=stage, reason=clean_reason(stage, reason))


@transaction.atomic
def replace_participant(user, participant: Participant, enterprise: Enterprise | int, reason: str = "") -> Correction:
    project = _locked(participant.project)
    stage = _stage(user, project, "参建单位")
    reason = clean_reason(stage, reason)
    return apply_replace_participant(
        user, participant, newcomer_enterprise(project, participant.role, enterprise), stage=stage, reason=reason
    )


@transaction.atomic
def remove_key_person(user, post: KeyPerson, reason: str = "") -> Correction:
    project = _locked(post.project)
    stage = _stage(user, project, "关键岗位人员")
    return apply_remove_key_person(user, post, stage=stage, reason=clean_reason(stage, reason))


@transaction.atomic
def replace_key_person(user, post: KeyPerson, person: Person | int, reason: str = "") -> Correction:
    project = _locked(post.project)
    stage = _stage(user, project, "关键岗位人员")
    reason = clean_reason(stage, reason)
    return apply_replace_key_person(user, post, newcomer_person(project, post.role, person), stage=stage, reason=reason)


@transaction.atomic
def withdraw_document(user, document: Document, reason: str = "") -> Correction:
    project = _locked(document.project)
    stage = _stage(user, project, "申报材料")
    if document.withdrawn_at is not None:
        raise ValidationError({"document": "该文件已撤回"})
    return apply_withdraw_document(user, document, stage=stage, reason=clean_reason(stage, reason))


def note_version(user, version: DocumentVersion, reason: str) -> Correction | None:
    """A replacement version uploaded after submission (services.upload_document): kept in the correction
    record beside the version's own note. Before submission a new version is an ordinary upload."""
    document = version.document
    stage = permissions.correction_stage(document.project)
    if stage != Stage.FILED:
        return None
    previous = document.versions.filter(number__lt=version.number).order_by("-number").first()
    old = f"{document_label(document)} v{previous.number}（{previous.original_name}）" if previous else ""
    return _record(
        user,
        document.project,
        stage=stage,
        subject=Correction.Subject.DOCUMENT,
        action=Correction.Action.REPLACE,
        role=document.kind,
        old=old or document_label(document),
        new=f"v{version.number}（{version.original_name}）",
        refs={
            "document": document.pk,
            "old_version": previous.number if previous else None,
            "new_version": version.number,
        },
        reason=reason,
    )


# --- the newcomers, checked against the pickers' rules --------------------------------------------------------


def newcomer_enterprise(project: Project, role: str, enterprise: Enterprise | int) -> Enterprise:
    enterprise_id = enterprise.pk if isinstance(enterprise, Enterprise) else enterprise
    found = Enterprise.objects.prefetch_related("qualifications").filter(pk=enterprise_id).first()
    if found is None:
        raise ValidationError({"enterprise": "主体库中没有该企业"})
    problems = pickers.participant_problems(found, role)
    if problems:
        raise ValidationError({"enterprise": problems})
    if project.participants.filter(role=role, enterprise=found).exists():
        raise ValidationError({"enterprise": f"{found.name}已登记为本项目的{ParticipantRole(role).label}"})
    return found


def newcomer_person(project: Project, role: str, person: Person | int) -> Person:
    """The person who takes the post: an employee of the participant answering for it (any other id, existing
    or not, gets the same refusal) holding the post's certificates."""
    person_id = person.pk if isinstance(person, Person) else person
    found = KeyPerson.eligible_people(project, role).prefetch_related("certificates").filter(pk=person_id).first()
    if found is None:
        raise ValidationError({"person": KeyPerson.refusal(role)})
    problems = pickers.key_person_problems(found, role)
    if problems:
        raise ValidationError({"person": [f"{found.name}不能担任{KeyPostRole(role).label}：{p}" for p in problems]})
    if project.key_people.filter(role=role, person=found).exists():
        raise ValidationError({"person": f"{found.name}已登记为本项目的{KeyPostRole(role).label}"})
    return found


# --- applying (no permission check: callers decide; changes.py applies an approved 变更 through these) --------


def apply_remove_participant(
    actor, participant: Participant, *, stage: str, reason: str, change: ProjectChangeRequest | None = None
) -> Correction:
    project = participant.project
    label = participant_label(participant)
    refs = {"participant": participant.pk, "enterprise": participant.enterprise_id}
    role = participant.role
    participant.delete()
    return _record(
        actor,
        project,
        stage=stage,
        subject=Correction.Subject.PARTICIPANT,
        action=Correction.Action.REMOVE,
        role=role,
        old=label,
        refs=refs,
        reason=reason,
        change=change,
    )


def apply_replace_participant(
    actor,
    participant: Participant,
    enterprise: Enterprise,
    *,
    stage: str,
    reason: str,
    change: ProjectChangeRequest | None = None,
) -> Correction:
    project, role = participant.project, participant.role
    old = participant_label(participant)
    refs: dict[str, Any] = {"participant": participant.pk, "enterprise": participant.enterprise_id}
    participant.delete()
    newcomer = Participant.objects.create(project=project, enterprise=enterprise, role=role)
    refs.update(new_participant=newcomer.pk, new_enterprise=enterprise.pk)
    return _record(
        actor,
        project,
        stage=stage,
        subject=Correction.Subject.PARTICIPANT,
        action=Correction.Action.REPLACE,
        role=role,
        old=old,
        new=participant_label(newcomer),
        refs=refs,
        reason=reason,
        change=change,
    )


def apply_remove_key_person(
    actor, post: KeyPerson, *, stage: str, reason: str, change: ProjectChangeRequest | None = None
) -> Correction:
    project, role = post.project, post.role
    label = person_label(role, post.person)
    refs = {"key_person": post.pk, "person": post.person_id}
    post.delete()
    return _record(
        actor,
        project,
        stage=stage,
        subject=Correction.Subject.KEY_PERSON,
        action=Correction.Action.REMOVE,
        role=role,
        old=label,
        refs=refs,
        reason=reason,
        change=change,
    )


def apply_replace_key_person(
    actor, post: KeyPerson, person: Person, *, stage: str, reason: str, change: ProjectChangeRequest | None = None
) -> Correction:
    project, role = post.project, post.role
    old = person_label(role, post.person)
    refs: dict[str, Any] = {"key_person": post.pk, "person": post.person_id}
    post.delete()
    newcomer = KeyPerson(project=project, person=person, role=role)
    newcomer.full_clean()
    newcomer.save()
    refs.update(new_key_person=newcomer.pk, new_person=person.pk)
    return _record(
        actor,
        project,
        stage=stage,
        subject=Correction.Subject.KEY_PERSON,
        action=Correction.Action.REPLACE,
        role=role,
        old=old,
        new=person_label(role, person),
        refs=refs,
        reason=reason,
        change=change,
    )


def apply_withdraw_document(
    actor, document: Document, *, stage: str, reason: str, change: ProjectChangeRequest | None = None
) -> Correction:
    document.withdrawn_at = timezone.now()
    document.withdrawn_by = actor if getattr(actor, "is_authenticated", False) else None
    document.withdraw_reason = reason
    document.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason", "updated_at"])
    versions = list(document.versions.values_list("number", flat=True))
    return _record(
        actor,
        document.project,
        stage=stage,
        subject=Correction.Subject.DOCUMENT,
        action=Correction.Action.WITHDRAW,
        role=document.kind,
        old=document_label(document),
        refs={"document": document.pk, "versions": versions},
        reason=reason,
        change=change,
    )


def _record(
    actor,
    project: Project,
    *,
    stage: str,
    subject: str,
    action: str,
    role: str,
    old: str,
    new: str = "",
    refs: dict[str, Any],
    reason: str,
    change: ProjectChangeRequest | None = None,
) -> Correction:
    """The correction record, its audit event, its evidence-log entry (after submission, and for documents
    always, whose uploads the log already holds), and the reviewers' notice of a correction under review."""
    correction = Correction.objects.create(
        project=project,
        stage=stage,
        subject=subject,
        action=action,
        role=role,
        old=old[:200],
        new=new[:200],
        refs=refs,
        reason=reason,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        change_request=change,
    )
    audit.record(
        actor,
        "update",
        correction,
        project=project,
        label=f"{correction.get_stage_display()}：{correction.get_subject_display()}{correction.get_action_display()}",
        changes={
            "label": correction.summary,
            "old": correction.old,
            "new": correction.new,
            "reason": reason,
            "change_request": change.pk if change else None,
        },
    )
    if stage != Stage.DRAFT or subject == Correction.Subject.DOCUMENT:
        # Ids and kinds, not names: the evidence log's data is read under the records part.
        ledger.append(
            "correction",
            "projects.correction",
            correction.pk,
            {
                "project": project.code,
                "stage": stage,
                "subject": subject,
                "action": action,
                "role": role,
                "refs": refs,
                "reason": reason,
                "change_request": change.pk if change else None,
            },
            actor=actor,
            scope=f"project:{project.pk}",
        )
    if stage == Stage.FILED and project.state == State.UNDER_REVIEW:
        notices.correction_under_review(correction)
    return correction


def history(project: Project) -> QuerySet[Correction]:
    """The project's corrections, newest first, with who made them and the 变更 request behind them."""
    return project.corrections.select_related("actor", "change_request")
