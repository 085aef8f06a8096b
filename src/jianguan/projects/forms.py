from __future__ import annotations

from django import forms

from jianguan.core import geo
from jianguan.core.models import Jurisdiction
from jianguan.core.widgets import DatePicker
from jianguan.registry.models import Enterprise, Person

from . import dangerous_works
from .models import Correction, DocumentKind, KeyPerson, KeyPostRole, ParticipantRole, Project, ProjectChangeRequest

# The filing's fields (Project.FILING_FIELDS) but the parameters, which get one form field each below.
BASE_FIELDS = [name for name in Project.FILING_FIELDS if name != "parameters"]


# The scale parameters by the kind of work they describe (dangerous_works' categories, in their order).
PARAMETER_GROUPS: list[tuple[str, list[dangerous_works.ParameterSpec]]] = [
    (category, [spec for spec in dangerous_works.PARAMETERS if spec.group == category])
    for category in dangerous_works.CATEGORIES
    if any(spec.group == category for spec in dangerous_works.PARAMETERS)
]
LOCATION_FIELDS = ("lat", "lon")


class ParameterGroup:
    """A kind of work on the form: its "不涉及" box and its parameters' fields (each with the field it depends on,
    for the page to show it only when that one is set)."""

    def __init__(self, form: ProjectForm, index: int, category: str, specs: list[dangerous_works.ParameterSpec]):
        self.index, self.category = index, category
        self.none = form[f"none_{index}"]
        self.fields = [(form[f"param_{spec.key}"], f"param_{spec.requires}" if spec.requires else "") for spec in specs]


class ProjectForm(forms.ModelForm):
    """The filing form: the base fields plus one field per 危大工程 scale parameter (from the rules' data), grouped
    by kind of work with a "不涉及" box each (a group marked so is filed without parameters), and the location as
    latitude/longitude, or a point pasted from a web map in the system it came from (converted by core.geo)."""

    class Meta:
        model = Project
        fields = BASE_FIELDS
        widgets = {
            "planned_start": DatePicker(),
            "planned_end": DatePicker(),
        }

    paste = forms.CharField(
        label="粘贴坐标",
        required=False,
        max_length=100,
        help_text="可从地图复制经纬度粘贴于此，如“118.356,35.104”；填写后以此为准",
    )
    coord_system = forms.ChoiceField(
        label="坐标来源", choices=list(geo.SYSTEMS.items()), initial=geo.WGS84, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].queryset = Jurisdiction.objects.exclude(parent=None)
        self.fields["lat"].help_text = self.fields["lon"].help_text = ""
        self.conversion: geo.Converted | None = None
        params = (self.instance.parameters or {}) if self.instance.pk else {}
        for index, (category, specs) in enumerate(PARAMETER_GROUPS):
            self.fields[f"none_{index}"] = forms.BooleanField(
                label=f"不涉及{category}",
                required=False,
                # An existing filing without any of the group's parameters: not concerned. A new one asks.
                initial=bool(self.instance.pk) and not any(spec.key in params for spec in specs),
            )
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
    def parameter_groups(self) -> list[ParameterGroup]:
        return [ParameterGroup(self, i, category, specs) for i, (category, specs) in enumerate(PARAMETER_GROUPS)]

    @property
    def base_fields_bound(self):
        return [self[name] for name in BASE_FIELDS if name not in LOCATION_FIELDS]

    @property
    def location_fields(self):
        return [self[name] for name in LOCATION_FIELDS]

    def full_clean(self):
        # A pasted point stands for the latitude and longitude fields: fill them before the model's checks.
        if self.is_bound and (self.data.get("paste") or "").strip():
            data = self.data.copy()
            try:
                point = geo.parse_point(data["paste"])
                self.conversion = geo.to_wgs84(*point, data.get("coord_system") or geo.WGS84)
            except geo.CoordinateError as exc:
                self.paste_error = str(exc)
            else:
                data["lat"], data["lon"] = f"{self.conversion.lat:.7f}", f"{self.conversion.lon:.7f}"
            self.data = data
        super().full_clean()
        if getattr(self, "paste_error", None):
            self.add_error("paste", self.paste_error)

    def _not_concerned(self) -> set[str]:
        """The parameters of the groups marked "不涉及": filed as not set, whatever the hidden fields hold."""
        return {
            spec.key
            for index, (_category, specs) in enumerate(PARAMETER_GROUPS)
            if self.cleaned_data.get(f"none_{index}")
            for spec in specs
        }

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in BASE_FIELDS if name != "jurisdiction"}
        data["jurisdiction_id"] = self.cleaned_data["jurisdiction"].pk
        params = {}
        skipped = self._not_concerned()
        for spec in dangerous_works.PARAMETERS:
            if spec.key in skipped:
                continue
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


class PickerSearchForm(forms.Form):
    """The pickers' search (a GET form: it works without JavaScript; htmx swaps its results in place)."""

    role = forms.ChoiceField(label="角色", choices=(), required=False)
    q = forms.CharField(label="搜索", required=False, max_length=100)
    replace = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, kind: str = "participant", **kwargs):
        super().__init__(*args, **kwargs)
        choices = ParticipantRole.choices if kind == "participant" else KeyPostRole.choices
        self.fields["role"].choices = choices
        self.fields["role"].label = "参建角色" if kind == "participant" else "岗位"
        self.fields["q"].widget.attrs.update(
            type="search",
            placeholder="企业名称或统一社会信用代码" if kind == "participant" else "姓名",
            autocomplete="off",
        )


class ReasonForm(forms.Form):
    """A correction's or 变更's reason (the model's limit)."""

    reason = forms.CharField(label="原因", required=False, max_length=Correction._meta.get_field("reason").max_length)


class ReplaceForm(ReasonForm):
    choice = forms.IntegerField(label="更换为", min_value=1)


class ChangeRequestForm(forms.Form):
    action = forms.ChoiceField(label="变更事项", choices=ProjectChangeRequest.Action.choices)
    target_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    choice = forms.IntegerField(required=False, min_value=1)  # the newcomer: a person or an enterprise
    reason = forms.CharField(label="变更原因", max_length=ProjectChangeRequest._meta.get_field("reason").max_length)


class DecisionForm(forms.Form):
    comment = forms.CharField(label="审批意见", required=False, max_length=200)


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

    def __init__(self, *args, kinds: list[str] | None = None, categories: list[str] | None = None, **kwargs):
        """`kinds`: the document kinds this user may add (permissions.uploadable_kinds); all when None.
        `categories`: the 危大工程 categories identified for the project (services.category_choices); the
        service checks the one chosen against the kind."""
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [(k, label) for k, label in DocumentKind.choices if k in kinds]
        if categories is not None:
            self.fields["category"].choices = [("", "——（非专项方案或专家论证）")] + [(c, c) for c in categories]

    category = forms.ChoiceField(
        label="危大工程类别",
        required=False,
        choices=[("", "——")] + [(c, c) for c in dangerous_works.CATEGORIES],
        help_text="专项方案和专家论证：从本项目识别出的危大工程中选择",
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


class VersionForm(forms.Form):
    """A new version of a document: the file and why it replaces the current one."""

    note = forms.CharField(label="替换原因", max_length=200)
    file = forms.FileField(label="文件")
