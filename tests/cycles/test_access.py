import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_member_sees_their_cycle(personas):
    response = personas.client_for(personas.technologist).get(reverse("cycles:cycle_detail", args=["cycle-a"]))
    assert response.status_code == 200
    assert "Cycle A" in response.content.decode()


def test_member_of_another_cycle_gets_404(personas):
    response = personas.client_for(personas.outsider).get(reverse("cycles:cycle_detail", args=["cycle-a"]))
    assert response.status_code == 404


def test_anonymous_is_sent_to_login(personas):
    response = personas.client_for(None).get(reverse("cycles:cycle_detail", args=["cycle-a"]))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
