"""Form widgets shared by the rooms."""

from django import forms


class DatePicker(forms.DateInput):
    """The browser's date picker. It only takes ISO dates (2026-03-01): the zh-hans input format (2026/03/01)
    would leave it empty, and a form saved from it would lose the date."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")
