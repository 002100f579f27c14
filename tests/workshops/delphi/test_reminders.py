"""Reminders for asynchronous rounds, with a fixed clock: only panellists who have not finished are
emailed, once per reminder time, never after close, never after unsubscribing."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.workshops.delphi.factories import (
    add_panellists,
    fast_passwords,  # noqa: F401
    start_delphi,
)
from workshops.delphi import reminders
from workshops.delphi.services import round_close, vote_cast
from workshops.models import DelphiPlan, ReminderOptOut, ReminderSent, Round


@pytest.fixture
def async_round(personas, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://foresight.example"
    finished, partial, idle = add_panellists(personas.cycle, 3)
    delphi = start_delphi(
        personas.cycle,
        personas.convener,
        capabilities=2,
        levels=1,
        reminder_hours=[72, 24],
        voting_roles=["technologist"],
    )
    rnd = delphi.round
    Round.objects.filter(pk=rnd.pk).update(deadline=rnd.opened_at + timedelta(days=4))
    rnd.refresh_from_db()
    for item in delphi.items:  # the persona technologist votes too, and has finished
        vote_cast(round_id=rnd.pk, panellist=finished, item_id=item.pk, value=2)
        vote_cast(round_id=rnd.pk, panellist=personas.technologist, item_id=item.pk, value=2)
    vote_cast(round_id=rnd.pk, panellist=partial, item_id=delphi.items[0].pk, value=1)
    return {"round": rnd, "finished": finished, "partial": partial, "idle": idle, "items": delphi.items}


def _at(rnd, hours_before):
    return rnd.deadline - timedelta(hours=hours_before)


def _sent_to():
    return sorted(address for message in mail.outbox for address in message.to)


@pytest.mark.django_db
def test_only_panellists_who_have_not_finished_are_emailed_once_per_reminder_time(async_round):
    rnd, partial, idle = async_round["round"], async_round["partial"], async_round["idle"]
    assert reminders.reminders_send_due(now=_at(rnd, 80)) == 0  # before the first reminder time
    assert reminders.reminders_send_due(now=_at(rnd, 71)) == 2
    assert _sent_to() == sorted([partial.email, idle.email])
    # A second beat, a retry, an hour later: nothing more.
    assert reminders.reminders_send_due(now=_at(rnd, 71)) == 0
    assert reminders.reminders_send_due(now=_at(rnd, 70)) == 0
    assert len(mail.outbox) == 2
    # The next reminder time, after the idle panellist finished.
    for item in async_round["items"]:
        vote_cast(round_id=rnd.pk, panellist=idle, item_id=item.pk, value=1)
    assert reminders.reminders_send_due(now=_at(rnd, 23)) == 1
    assert mail.outbox[-1].to == [partial.email]
    log = ReminderSent.objects.filter(round=rnd).order_by("created_at", "panellist_id")
    assert [(r.panellist_id, r.hours_before, r.status) for r in log] == sorted(
        [(partial.pk, 72, "sent"), (idle.pk, 72, "sent"), (partial.pk, 24, "sent")], key=lambda r: (-r[1], r[0])
    )


@pytest.mark.django_db
def test_the_email_links_straight_to_the_unanswered_items_and_to_a_one_click_unsubscribe(async_round, personas):
    rnd, partial = async_round["round"], async_round["partial"]
    reminders.reminders_send_due(now=_at(rnd, 71))
    message = next(m for m in mail.outbox if m.to == [partial.email])
    link = f"https://foresight.example/cycles/{personas.cycle.slug}/delphi/rounds/{rnd.number}/?show=unanswered"
    assert link in message.body and "1 item still waits" in message.body
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The link shows only what this panellist has not answered.
    page = personas.client_for(partial).get(link.removeprefix("https://foresight.example")).content.decode()
    assert 'id="only-unanswered"' in page
    assert f'id="item-{async_round["items"][1].pk}"' in page and f'id="item-{async_round["items"][0].pk}"' not in page


@pytest.mark.django_db
def test_unsubscribing_works_without_sign_in_and_stops_the_next_reminders(async_round):
    rnd, partial, idle = async_round["round"], async_round["partial"], async_round["idle"]
    token = reminders.unsubscribe_token(cycle_id=rnd.cycle_id, user_id=partial.pk)
    url = reverse("workshops:delphi_reminders_unsubscribe", args=[token])
    anonymous = Client(enforce_csrf_checks=True)
    asked = anonymous.get(url)
    assert asked.status_code == 200 and b"Unsubscribe from reminders" in asked.content
    assert not ReminderOptOut.objects.exists()  # a GET never changes state
    # The mail client's one-click POST carries no CSRF token.
    assert anonymous.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert anonymous.post(url).status_code == 200  # twice: still one row
    assert ReminderOptOut.objects.filter(cycle_id=rnd.cycle_id, user=partial).count() == 1
    assert reminders.reminders_send_due(now=_at(rnd, 71)) == 1
    assert _sent_to() == [idle.email]


@pytest.mark.django_db
def test_a_forged_or_damaged_token_unsubscribes_no_one(async_round):
    rnd, partial = async_round["round"], async_round["partial"]
    token = reminders.unsubscribe_token(cycle_id=rnd.cycle_id, user_id=partial.pk)
    for bad in (token[:-2] + "xx", "not-a-token"):
        response = Client().post(reverse("workshops:delphi_reminders_unsubscribe", args=[bad]))
        assert response.status_code == 400
    assert not ReminderOptOut.objects.exists()


@pytest.mark.django_db
def test_no_reminder_after_the_round_closed_nor_at_the_deadline(async_round, personas):
    rnd = async_round["round"]
    assert reminders.reminders_send_due(now=rnd.deadline) == 0
    round_close(round_id=rnd.pk, actor=personas.convener)
    assert reminders.reminders_send_due(now=_at(rnd, 23)) == 0
    assert mail.outbox == [] and not ReminderSent.objects.exists()


@pytest.mark.django_db
def test_a_reminder_time_before_the_round_opened_is_skipped_and_a_missed_one_is_not_sent_late(async_round):
    rnd = async_round["round"]
    Round.objects.filter(pk=rnd.pk).update(deadline=rnd.opened_at + timedelta(hours=48))  # 72 h was before opening
    rnd.refresh_from_db()
    assert reminders.reminders_send_due(now=rnd.opened_at + timedelta(hours=1)) == 0
    assert reminders.reminders_send_due(now=_at(rnd, 20)) == 2
    assert set(ReminderSent.objects.values_list("hours_before", flat=True)) == {24}


@pytest.mark.django_db
def test_a_reminder_another_scheduler_claimed_is_not_sent_again(async_round):
    rnd, partial, idle = async_round["round"], async_round["partial"], async_round["idle"]
    ReminderSent.objects.create(round=rnd, panellist=partial, hours_before=72, status=ReminderSent.Status.SENDING)
    assert reminders.reminders_send_due(now=_at(rnd, 71)) == 1
    assert _sent_to() == [idle.email]


@pytest.mark.django_db
def test_the_convener_sets_reminder_times_and_sees_every_reminder_on_the_round_page(async_round, personas):
    rnd = async_round["round"]
    url = reverse("workshops:delphi_reminders", args=[personas.cycle.slug])
    convener = personas.client_for(personas.convener)
    refused = convener.post(url, {"hours": "three days"})
    assert refused.status_code == 200 and reminders.REMINDER_HOURS_INVALID in refused.content.decode()
    assert DelphiPlan.objects.get(cycle=personas.cycle).reminder_hours == [72, 24]  # unchanged
    assert convener.post(url, {"hours": "2d, 6h"}).status_code == 302
    assert DelphiPlan.objects.get(cycle=personas.cycle).reminder_hours == [48, 6]
    assert 'value="2d, 6h"' in convener.get(url).content.decode()
    assert personas.client_for(personas.technologist).post(url, {"hours": ""}).status_code == 403
    reminders.reminders_send_due(now=_at(rnd, 47))
    round_url = reverse("workshops:delphi_round", args=[personas.cycle.slug, rnd.number])
    page = convener.get(round_url).content.decode()
    assert 'id="reminders-log"' in page and str(async_round["partial"]) in page and "2 days before" in page
    panellist_page = personas.client_for(async_round["partial"]).get(round_url).content.decode()
    assert 'id="reminders-log"' not in panellist_page


@pytest.mark.django_db
def test_reminder_times_read_as_days_or_hours():
    assert reminders.reminder_hours_parse("3d, 1d") == [72, 24]
    assert reminders.reminder_hours_parse("12h; 72") == [72, 12]
    assert reminders.reminder_hours_parse("") == []
    assert reminders.reminder_hours_label([72, 24, 6]) == "3 days, 1 day, 6 hours"
    for bad in ("0h", "61d", "soon", "1d,2d,3d,4d,5d,6d"):
        with pytest.raises(reminders.DelphiError):
            reminders.reminder_hours_parse(bad)


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_send_each_reminder_once(async_round):
    """Two beats (threads with their own database connections) run the same due reminders at once."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises the whole database)")
    rnd = async_round["round"]
    barrier, counts = threading.Barrier(2), []

    def beat():
        try:
            barrier.wait()
            counts.append(reminders.reminders_send_due(now=_at(rnd, 71)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 2 and len(mail.outbox) == 2
    assert ReminderSent.objects.filter(round=rnd).count() == 2


@pytest.mark.django_db
def test_the_command_and_the_scheduled_task_send_what_is_due(async_round):
    from django.conf import settings
    from django.core.management import call_command

    from workshops.delphi.tasks import send_delphi_reminders

    assert settings.CELERY_BEAT_SCHEDULE["send-delphi-reminders"]["task"] == send_delphi_reminders.name
    Round.objects.filter(pk=async_round["round"].pk).update(
        deadline=async_round["round"].opened_at + timedelta(hours=24)
    )
    assert send_delphi_reminders.delay().get() == 2
    call_command("send_delphi_reminders")  # again: nothing more
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_panellists_data_export_lists_their_reminders_and_unsubscribes_only(async_round, personas):
    import json

    rnd, partial, idle = async_round["round"], async_round["partial"], async_round["idle"]
    reminders.reminders_send_due(now=_at(rnd, 71))
    token = reminders.unsubscribe_token(cycle_id=rnd.cycle_id, user_id=partial.pk)
    Client().post(reverse("workshops:delphi_reminders_unsubscribe", args=[token]))

    mine = json.loads(personas.client_for(partial).get(reverse("privacy:my_data")).content)
    assert [(r["round"], r["hours_before_deadline"], r["status"]) for r in mine["delphi_reminders"]] == [
        (rnd.number, 72, "sent")
    ]
    assert mine["reminders_unsubscribed"] == [personas.cycle.slug]
    theirs = json.loads(personas.client_for(idle).get(reverse("privacy:my_data")).content)
    assert len(theirs["delphi_reminders"]) == 1 and theirs["reminders_unsubscribed"] == []
