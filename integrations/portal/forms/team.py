"""The team page's inputs: an invitation, a member's role; the invitation's sign-up; the
company switcher."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from integrations.companies.models import Company, Membership

ROLE_CHOICES = Membership.Role.choices


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"}),
    )
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Membership.Role.MEMBER)

    def __init__(self, *args, company: Company, **kwargs):
        self.company = company
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if self.company.memberships.filter(user__email__iexact=email).exists():
            raise forms.ValidationError(f"{email} is already in {self.company.name}.")
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class SwitchCompanyForm(forms.Form):
    """Only the user's own companies are choices, so another company's id is simply invalid."""

    company = forms.ModelChoiceField(queryset=Company.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = Company.objects.for_user(user)


class InvitationSignUpForm(auth_forms.SetPasswordForm):
    """A new account for the invited address: the email is the username, only the password is
    asked for (Django's validators check it, including against the address)."""

    def __init__(self, email, *args, **kwargs):
        User = get_user_model()
        super().__init__(User(username=email, email=email), *args, **kwargs)
        self.fields["new_password1"].label = "Choose a password"
        self.fields["new_password2"].label = "Type it again"

    def clean(self):
        User = get_user_model()
        address = self.user.email
        if User.objects.filter(Q(username__iexact=address) | Q(email__iexact=address)).exists():
            raise forms.ValidationError(
                f"There is already an account for {address}: sign in with it instead."
            )
        return super().clean()
