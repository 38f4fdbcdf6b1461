"""The inbox page's filter form shows what the query chose, escaped, one option per choice."""

import re

import pytest

from cases.models import Priority, Status, Tier
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}">(.*?)</select>', page, re.S).group(1)
    return re.findall(r"<option [^>]*>[^<]*</option>", select)


def test_the_chosen_values_are_selected_and_nothing_else(client):
    client.force_login(make_user("sue", "supervisor"))
    tier = Tier.objects.order_by("position").last()
    query = f"status=new&status=open&priority=P2&tier={tier.slug}&sentiment=neutral&sort=sla_due"
    page = client.get(f"/?{query}&q=late+parcel").content.decode()
    assert options(page, "status") == ['<option value="">any</option>'] + [
        f'<option value="{value}" {"selected" if value == "open" else ""}>{label}</option>'
        for value, label in Status.choices
    ]
    assert options(page, "priority")[2] == '<option value="P2" selected>P2 high</option>'
    assert len(options(page, "priority")) == len(Priority.choices) + 1
    assert options(page, "tier")[-1] == f'<option value="{tier.slug}" selected>{tier.name}</option>'
    assert options(page, "tier")[1:] == [
        f'<option value="{t.slug}" {"selected" if t == tier else ""}>{t.name}</option>'
        for t in Tier.objects.order_by("position")
    ]
    assert '<option value="neutral" selected>neutral</option>' in options(page, "sentiment")
    assert options(page, "sort") == [
        '<option value="priority" >Priority</option>',
        '<option value="sla_due" selected>SLA due</option>',
        '<option value="updated" >Last update</option>',
    ]
    assert 'name="q" value="late parcel"' in page


def test_hostile_choices_select_nothing_and_come_back_escaped(client):
    client.force_login(make_user("sue", "supervisor"))
    tier = Tier.objects.order_by("position").first()
    tier.name = '<b>"VIP" & co</b>'
    tier.save()
    page = client.get('/?status=<b>&tier="><script>&q="><script>alert(1)</script>').content.decode()
    assert "<script>alert" not in page
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    escaped = "&lt;b&gt;&quot;VIP&quot; &amp; co&lt;/b&gt;"
    assert f'<option value="{tier.slug}" >{escaped}</option>' in page
    assert "selected" not in "".join(options(page, "status") + options(page, "tier"))
