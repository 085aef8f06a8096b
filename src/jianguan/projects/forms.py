from __future__ import annotations

from django import forms

from jianguan.core.models import Jurisdiction
from jianguan.core.widgets import DatePicker
from jianguan.registry.models import Enterprise, Person

from . import dangerous_works
from .models import DocumentKind, KeyPerson, KeyPostRole, ParticipantRole, Project

# The filing's fields (Project.FILING_FIELDS) but the parameters, which get one form field each below.
BASE_FIELDS = [name for name in Project.FILING_FIELDS if name != "parameters"]


class ProjectForm(forms.ModelForm):
    """The filing form: the base fields plus one field per 危大工程 scale parameter (from the rules' data)."""

    class Meta:
        model = Project
        fields = BASE_FIELDS
        widgets = {
            "planned_start": DatePicker(),
            "planned_end": DatePicker(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].queryset = Jurisdiction.objects.exclude(parent=None)
        params = (self.instance.parameters or {}) if self.instance.pk else {}
        for spec in dangerous_works.PARAMETERS:
            label = f"{spec.label_zh}（{spec.unit}）" if spec.unit else spec.label_zh
            name = f"param_{spec.key}"
            if spec.kind == "bool":
                self.fields[name] = forms.BooleanField(
                    label=spec.label_zh, required=False, initial=params.get(spec.key, False)
                )
            else:
                self.fields[name] = forms.FloatField(
                    label=label,
                    required=False,
                    min_value=None if spec.allow_negative else 0,
                    initial=params.get(spec.key),
                )

    @property
    def parameter_fields(self):
        return [self[f"param_{spec.key}"] for spec in dangerous_works.PARAMETERS]

    @property
    def base_fields_bound(self):
        return [self[name] for name in BASE_FIELDS]

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in BASE_FIELDS if name != "jurisdiction"}
        data["jurisdiction_id"] = self.cleaned_data["jurisdiction"].pk
        params = {}
        for spec in dangerous_works.PARAMETERS:
            value = self.cleaned_data.get(f"param_{spec.key}")
            if spec.kind == "bool":
                if value:
                    params[spec.key] = True
            elif value is not None:
                params[spec.key] = value
        data["parameters"] = params
        return data


class ParticipantForm(forms.Form):
    role = forms.ChoiceField(label="参建角色", choices=ParticipantRole.choices)
    enterprise = forms.ModelChoiceField(label="企业", queryset=Enterprise.objects.order_by("kind", "name"))


class KeyPersonForm(forms.Form):
    role = forms.ChoiceField(label="岗位", choices=KeyPostRole.choices)
    person = forms.ModelChoiceField(label="人员", queryset=Person.objects.none())

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        if project is not None:
            # The employees of the participants that answer for a key post (KeyPerson.POST_EMPLOYERS); the service
            # checks the post's own participant.
            roles = {r for post_roles in KeyPerson.POST_EMPLOYERS.values() for r in post_roles}
            employers = project.participants.filter(role__in=roles).values_list("enterprise_id", flat=True)
            self.fields["person"].queryset = Person.objects.filter(employer_id__in=employers).select_related("employer")
            self.fields["person"].label_from_instance = lambda p: f"{p.name}（{p.employer}）"


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label="文件类型", choices=DocumentKind.choices)

    def __init__(self, *args, kinds: list[str] | None = None, **kwargs):
        """`kinds`: the document kinds this user may add (permissions.uploadable_kinds); all when None."""
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [(k, label) for k, label in DocumentKind.choices if k in kinds]

    category = forms.CharField(
        label="危大工程类别",
        required=False,
        max_length=50,
        help_text="专项方案和专家论证须填写，如“基坑工程”",
    )
    title = forms.CharField(label="标题", required=False, max_length=200)
    valid_until = forms.DateField(label="有效期至", required=False, widget=DatePicker())
    file = forms.FileField(label="文件")


class TransitionForm(forms.Form):
    name = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label="理由", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ProgressReportForm(forms.Form):
    report_date = forms.DateField(label="报告日期", widget=DatePicker())
    percent_complete = forms.IntegerField(label="形象进度（%）", min_value=0, max_value=100)
    summary = forms.CharField(label="进展说明", widget=forms.Textarea(attrs={"rows": 3}))
    photo = forms.FileField(label="现场照片", required=False)
