from django import forms


class SearchForm(forms.Form):
    q = forms.CharField(label="Search the questions", max_length=200, required=False, strip=True)

    def clean_q(self):
        value = self.cleaned_data["q"]
        if "\x00" in value:
            raise forms.ValidationError("Please remove unusual characters from your search.", code="invalid")
        return value
