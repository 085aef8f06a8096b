from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from jianguan.core.widgets import DatePicker

from .alarms import search as alarm_search
from .limits import editing as limit_admin
from .models import Alarm, Device, LimitRule, validate_networks


class LimitRuleForm(forms.Form):
    """Parses the page's input; the rules (limit_admin.validate) decide what is acceptable."""

    name = forms.CharField(label="规则名称", max_length=100)
    parameter = forms.CharField(
        label="监测因子编码", max_length=16, help_text="HJ 212 编码：a34004 PM2.5，a34002 PM10，LA 噪声，a01007 风速"
    )
    unit = forms.CharField(label="单位", max_length=20, required=False)
    device_kind = forms.ChoiceField(label="适用设备", choices=[("", "全部设备"), *Device.Kind.choices], required=False)
    period = forms.ChoiceField(label="时段", choices=LimitRule.Period.choices)
    warning = forms.FloatField(label="超标限值", help_text="读数高于此值计为一次超标")
    critical = forms.FloatField(label="严重限值", required=False, help_text="可留空；高于此值告警级别为“严重”")
    sustain = forms.IntegerField(label="连续超标次数", help_text="连续超标达到此次数才告警；1 = 立即告警")
    clear_ratio = forms.FloatField(
        label="解除比例",
        help_text="读数低于 超标限值 × 此比例 计为达标（0 < 比例 ≤ 1）",
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    clear_count = forms.IntegerField(label="连续达标次数", help_text="连续达标达到此次数告警自动恢复")
    source = forms.CharField(label="依据", max_length=200, help_text="标准名称及条款，或地方文件文号")
    confirmed = forms.BooleanField(
        label="依据已确认", required=False, help_text="未勾选时，页面和告警消息中标注“默认值待确认”"
    )
    active = forms.BooleanField(label="启用", required=False, initial=True)

    groups = (
        ("适用范围", ("name", "parameter", "unit", "device_kind", "period")),
        ("限值与告警条件", ("warning", "critical", "sustain", "clear_ratio", "clear_count")),
        ("依据与状态", ("source", "confirmed", "active")),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            verb = "请选择" if isinstance(field, forms.ChoiceField) else "请填写"
            field.error_messages["required"] = f"{verb}{field.label}。"
            if type(field) is forms.IntegerField:  # FloatField subclasses IntegerField
                field.error_messages["invalid"] = "请输入整数。"

    @property
    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.groups]

    def clean(self):
        data = super().clean()
        try:
            limit_admin.validate({**{k: None for k in limit_admin.FIELDS}, **data})
        except ValidationError as exc:
            attach_errors(self, exc)
        return data


def attach_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: field messages beside their fields, the rest on top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        if name in form.fields:
            if name not in form.errors:  # a parse error ("请输入一个数字") already says what is wrong
                form.add_error(name, errors)
        else:
            form.add_error(None, errors)


class DeviceForm(forms.Form):
    """A device's registration on the project page; services.register_device decides what is acceptable."""

    name = forms.CharField(label="名称", max_length=100, help_text="如：东门扬尘监测、1号塔吊")
    kind = forms.ChoiceField(label="类型", choices=Device.Kind.choices)
    protocol = forms.ChoiceField(label="接入协议", choices=Device.Protocol.choices)
    mn = forms.CharField(label="设备编号（MN）", max_length=64, required=False, help_text="HJ 212 设备必填")
    password = forms.CharField(
        label="访问密码（PW）",
        max_length=64,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="HJ 212 设备必填；只保存其加密摘要",
    )
    dialect = forms.ChoiceField(
        label="报文方言",
        choices=Device.Dialect.choices,
        initial=Device.Dialect.STANDARD,
        help_text="厂商偏差见运维手册",
    )
    mqtt_client_id = forms.CharField(
        label="MQTT 客户端ID", max_length=64, required=False, help_text="MQTT 设备必填（与主题中的设备标识一致）"
    )
    rtd_interval_s = forms.IntegerField(label="实时数据间隔（秒）", min_value=30, max_value=3600, initial=60)
    allowed_networks = forms.CharField(
        label="允许的来源网段",
        max_length=500,
        required=False,
        validators=[validate_networks],
        help_text="仅 HJ 212，可选：只接受来自这些网段的连接（如运营商 APN 地址段 112.224.0.0/11），逗号分隔；留空不限",
    )
    lat = forms.FloatField(label="纬度", required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(label="经度", required=False, min_value=-180, max_value=180)
    installed_on = forms.DateField(label="安装日期", required=False, widget=DatePicker())
    calibrated_on = forms.DateField(label="校准日期", required=False, widget=DatePicker())

    groups = (
        ("设备", ("name", "kind", "protocol")),
        ("接入身份", ("mn", "password", "dialect", "mqtt_client_id", "rtd_interval_s", "allowed_networks")),
        ("位置与维护", ("lat", "lon", "installed_on", "calibrated_on")),
    )

    def clean(self):
        data = super().clean()
        protocol = data.get("protocol")
        if protocol == Device.Protocol.HJ212:
            for name in ("mn", "password"):
                if not data.get(name):
                    self.add_error(name, "HJ 212 设备须填写设备编号（MN）和访问密码（PW）")
        if protocol == Device.Protocol.MQTT and not data.get("mqtt_client_id"):
            self.add_error("mqtt_client_id", "MQTT 设备须填写客户端ID")
        return data

    @property
    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.groups]

    def device_data(self) -> dict:
        data = dict(self.cleaned_data)
        for name in ("mn", "mqtt_client_id"):
            data[name] = data.get(name) or None  # unique columns: empty means none
        if data["protocol"] != Device.Protocol.HJ212:
            data.pop("mn")
            data.pop("password")
            data.pop("dialect")
            data.pop("allowed_networks")
        return data


class DeviceEditForm(forms.Form):
    """What may change after registration (services.EDITABLE) and, for HJ 212, a new access password."""

    name = DeviceForm.base_fields["name"]
    dialect = DeviceForm.base_fields["dialect"]
    rtd_interval_s = DeviceForm.base_fields["rtd_interval_s"]
    password = forms.CharField(
        label="新的访问密码（PW）",
        max_length=64,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="仅 HJ 212 设备；留空则不更换。更换后设备须使用新密码",
    )
    allowed_networks = DeviceForm.base_fields["allowed_networks"]
    lat = DeviceForm.base_fields["lat"]
    lon = DeviceForm.base_fields["lon"]
    installed_on = DeviceForm.base_fields["installed_on"]
    calibrated_on = DeviceForm.base_fields["calibrated_on"]
    reason = forms.CharField(
        label="变更原因",
        max_length=200,
        required=False,
        help_text="更换密码、移动位置、变更数据间隔、报文方言或来源网段须经区县住建部门审批时必填",
    )

    def __init__(self, *args, device: Device, must_request: bool = False, **kwargs):
        initial = {name: getattr(device, name) for name in ("name", "dialect", "rtd_interval_s", "lat", "lon")}
        initial |= {"installed_on": device.installed_on, "calibrated_on": device.calibrated_on}
        initial["allowed_networks"] = device.allowed_networks
        super().__init__(*args, initial=initial, **kwargs)
        if not must_request:
            del self.fields["reason"]
        if device.protocol != Device.Protocol.HJ212:
            del self.fields["password"]
            del self.fields["dialect"]
            del self.fields["allowed_networks"]


class AlarmFilterForm(forms.Form):
    """The alarm list's filters (GET). An invalid field is reported and left out of the search."""

    state = forms.ChoiceField(
        label="状态",
        choices=[("open", "未关闭"), ("all", "全部"), *Alarm.State.choices],
        required=False,
    )
    jurisdiction = forms.CharField(label="区县", max_length=12, required=False)
    q = forms.CharField(label="项目", max_length=100, required=False)
    parameter = forms.CharField(label="类别", max_length=16, required=False)
    since = forms.DateField(label="发生日期从", required=False)
    until = forms.DateField(label="至", required=False)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "结束日期不能早于开始日期")
        return data

    def query(self) -> alarm_search.AlarmQuery:
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        data.setdefault("state", "open")
        if isinstance(data.get("q"), str):
            data["q"] = data["q"].strip()
        return alarm_search.AlarmQuery(**data)
