"""Phone numbers in the forms (a red-team trial read them in full in the household edit form, the change-request
form and the change request's page, unlogged, even as a city administrator denied full numbers): shown masked,
kept when sent back unchanged, replaced by a full new number."""

import re

from django.test import Client
from django.urls import reverse

from xiaokang.registry.models import Household
from xiaokang.workflow.models import ChangeRequest

from xiaokang.workflow import services

from .test_household_exit import D, run


def client(user):
    c = Client()
    c.force_login(user)
    return c


def inputs(page: str) -> dict:
    """name → value of the page's text, hidden and number inputs and the selected options (as posted back)."""
    data = {m[0]: m[1] for m in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        data[name] = chosen[1] if chosen else ""
    data.pop("csrfmiddlewaretoken", None)
    return data


def test_edit_form_masks_the_phone_and_keeps_it(data, users):
    h = data.h2
    Household.objects.filter(pk=h.pk).update(phone="13912345678")
    for who in (users.village, users.city):
        page = client(who).get(reverse("household_edit", args=[h.pk])).content.decode()
        assert "13912345678" not in page and 'value="139****5678"' in page
    c = client(users.village)
    form = inputs(c.get(reverse("household_edit", args=[h.pk])).content.decode())
    form["natural_village"] = "新屋组"
    assert c.post(reverse("household_edit", args=[h.pk]), form).status_code == 302
    h.refresh_from_db()
    assert (h.natural_village, h.phone) == ("新屋组", "13912345678")
    form = inputs(c.get(reverse("household_edit", args=[h.pk])).content.decode())
    form["phone"] = "13800001111"
    assert c.post(reverse("household_edit", args=[h.pk]), form).status_code == 302
    h.refresh_from_db()
    assert h.phone == "13800001111"


def test_change_request_form_and_page_mask_the_phone(data, users):
    inst = services.start_household_exit(data.h2, user=users.village, on=D)
    run(inst, users, 7)  # county approval: the household is locked, it changes by change request only
    Household.objects.filter(pk=data.h2.pk).update(phone="13912345678")
    c = client(users.village)
    url = reverse("change_request_create", args=[data.h2.pk])
    page = c.get(url).content.decode()
    assert "13912345678" not in page and 'value="139****5678"' in page
    form = inputs(page)
    form.update(phone="13800001111", reason="电话更换")
    assert c.post(url, form).status_code == 302
    cr = ChangeRequest.objects.get()
    assert cr.changes == {"phone": "13800001111"}  # only the phone: the masked fields did not count as changes
    for who in (users.town, users.county, users.city):
        response = client(who).get(reverse("change_request_detail", args=[cr.pk]))
        if response.status_code == 404:
            continue
        page = response.content.decode()
        assert "13912345678" not in page and "13800001111" not in page
        assert "139****5678" in page and "138****1111" in page


def test_an_edited_masked_phone_or_a_malformed_one_is_refused(data, users):
    """Editing one digit of the masked display would store it masked; text or two digits are no phone."""
    h = data.h2
    Household.objects.filter(pk=h.pk).update(phone="13912345678")
    c = client(users.village)
    form = inputs(c.get(reverse("household_edit", args=[h.pk])).content.decode())
    for bad, message in (("139****5679", "号码含 *：不改动请保持脱敏显示原样"), ("abc", "联系电话格式不正确"),
                         ("12", "联系电话格式不正确")):
        r = c.post(reverse("household_edit", args=[h.pk]), {**form, "phone": bad})
        assert r.status_code == 400 and message in r.content.decode(), bad
    h.refresh_from_db()
    assert h.phone == "13912345678"
    for good in ("0731-22123456", "13800001111"):
        form = inputs(c.get(reverse("household_edit", args=[h.pk])).content.decode())
        assert c.post(reverse("household_edit", args=[h.pk]), {**form, "phone": good}).status_code == 302
        h.refresh_from_db()
        assert h.phone == good
