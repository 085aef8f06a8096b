"""The workspace's small forms. Rules live in the services; these only parse what a page posts."""

from __future__ import annotations

from django import forms

from jianguan.core.widgets import DatePicker

from . import checklist
from .models import SignOff, Verdict


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(label="审查结论", choices=Verdict.choices)
    comment = forms.CharField(
        label="审查意见", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(forms.Form):
    body = forms.CharField(label="审查意见", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    document = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class ReplyForm(forms.Form):
    body = forms.CharField(label="回复", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(forms.Form):
    note = forms.CharField(label="关闭说明", required=False, max_length=500)


class MarkForm(forms.Form):
    point = forms.ChoiceField(choices=[(p.code, p.label) for p in checklist.POINTS])
    result = forms.ChoiceField(label="结论", choices=checklist.Mark.CHOICES)
    note = forms.CharField(label="说明", required=False, max_length=500)


class OpinionForm(forms.Form):
    opinion = forms.CharField(
        label="审查意见", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )


class AssignForm(forms.Form):
    assignee = forms.IntegerField(label="承办人", required=False, min_value=1)


class SignForm(forms.Form):
    stage = forms.ChoiceField(choices=SignOff.Stage.choices)
    opinion = forms.CharField(label="意见", max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class StartReportForm(forms.Form):
    started_on = forms.DateField(label="实际开工日期", widget=DatePicker)
    note = forms.CharField(label="说明", required=False, max_length=500)


class StartDecisionForm(forms.Form):
    note = forms.CharField(label="确认意见", required=False, max_length=500)


class QueueFilter(forms.Form):
    tab = forms.ChoiceField(required=False, choices=[("bureau", ""), ("enterprise", "")])
    q = forms.CharField(required=False, max_length=100)
    jurisdiction = forms.CharField(required=False, max_length=12)
    assignee = forms.CharField(required=False, max_length=12)
    stage = forms.ChoiceField(required=False, choices=[("", ""), ("review", ""), ("approve", ""), ("start", "")])
    overdue = forms.BooleanField(required=False)
    sort = forms.ChoiceField(
        required=False, choices=[("waiting", ""), ("received", ""), ("problems", ""), ("comments", "")]
    )
