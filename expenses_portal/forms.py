from django import forms


class LinkReturnForm(forms.Form):
    """The query string Codat Link sends the user back with (its reserved placeholders)."""

    companyId = forms.UUIDField()  # Codat's own parameter names
    connectionId = forms.UUIDField(required=False)
    statusCode = forms.IntegerField(min_value=100, max_value=599)
    errorMessage = forms.CharField(required=False, max_length=500)
    platform = forms.CharField(required=False, max_length=4)
