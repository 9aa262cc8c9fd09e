"""Staff pages: scoped to the clerk's own school, edits and imports through the services."""

from __future__ import annotations

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from hiroba.accounts.models import Role
from hiroba.calendars import sample, services
from hiroba.calendars.models import Event, ImportBatch
from tests.calendars.conftest import calendar_of


def test_a_clerk_sees_only_their_own_school(clerk_client, school, other_school):
    page = clerk_client.get("/staff/calendars/").content.decode()
    assert "千代田区立麹町小学校" in page and "千代田区立番町小学校" not in page
    assert clerk_client.get("/staff/calendars/kojimachi/").status_code == 200
    assert clerk_client.get("/staff/calendars/bancho/").status_code == 404
    assert clerk_client.get("/staff/calendars/bancho/events/new/").status_code == 404


def test_a_board_of_education_role_covers_every_school(client, make_staff, school, other_school):
    staff = make_staff(email="kyoiku@example.jp", department="kyoiku", role=Role.READ)
    client.force_login(staff.user)
    page = client.get("/staff/calendars/").content.decode()
    assert "千代田区立麹町小学校" in page and "千代田区立番町小学校" in page
    assert client.get("/staff/calendars/bancho/events/new/").status_code == 403


def test_signed_out_visitors_meet_the_staff_gate(client, school):
    assert client.get("/staff/calendars/").status_code == 401


def test_a_clerk_adds_an_event(clerk_client, school):
    response = clerk_client.post("/staff/calendars/kojimachi/events/new/", {
        "calendar": calendar_of(school, "2年").pk, "title": "遠足（2年）", "category": "event",
        "start_date": "2025-05-09", "start_time": "08:30", "end_time": "15:00", "location": "動物園",
        "repeat": "", "url": "",
    })
    event = Event.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/events/{event.pk}/")
    assert (event.calendar.label, event.all_day, event.source) == ("2年", False, "manual")
    assert event.revisions.get().actor_label == "kyomu@kojimachi.example.jp"


def test_the_event_form_explains_mistakes(clerk_client, school):
    page = clerk_client.post("/staff/calendars/kojimachi/events/new/", {
        "calendar": calendar_of(school, "全校").pk, "title": "x", "category": "event",
        "start_date": "2025-05-09", "end_date": "2025-05-08", "start_time": "10:00",
        "repeat": "weekly", "exdates": "2025/2/30",
    }).content.decode()
    assert "終了日が開始日より前です" in page
    assert "開始時刻を入れたときは終了時刻も入れてください" in page
    assert "「2025/2/30」という日付はありません" in page
    assert not Event.objects.exists()


def test_editing_an_event_raises_its_sequence_and_shows_the_history(clerk_client, school, make_event):
    event = make_event("運動会")
    response = clerk_client.post(f"/staff/calendars/kojimachi/events/{event.pk}/edit/", {
        "calendar": event.calendar_id, "title": "運動会", "category": "event",
        "start_date": "2025-05-31", "repeat": "",
    })
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.start_date, event.sequence) == (date(2025, 5, 31), 1)
    page = clerk_client.get(f"/staff/calendars/kojimachi/events/{event.pk}/").content.decode()
    assert "変更履歴" in page and "2025-05-24 → 2025-05-31" in page


def test_a_recurring_event_is_edited_with_its_rule(clerk_client, school, make_event):
    event = make_event("クラブ活動", start=date(2025, 4, 16), rrule="FREQ=WEEKLY;UNTIL=20250716;BYDAY=WE",
                       exdates=[date(2025, 4, 30)])
    page = clerk_client.get(f"/staff/calendars/kojimachi/events/{event.pk}/edit/").content.decode()
    assert "FREQ=WEEKLY;UNTIL=20250716;BYDAY=WE" in page
    clerk_client.post(f"/staff/calendars/kojimachi/events/{event.pk}/edit/", {
        "calendar": event.calendar_id, "title": "クラブ活動", "category": "event", "start_date": "2025-04-16",
        "repeat": "custom", "rrule": "FREQ=WEEKLY;UNTIL=20250716;BYDAY=WE", "exdates": "2025-04-30、2025/5/7",
    })
    event.refresh_from_db()
    assert event.exdates == ["2025-04-30", "2025-05-07"] and event.sequence == 1


def test_cancel_and_restore_from_the_event_page(clerk_client, school, make_event):
    event = make_event()
    assert clerk_client.get(f"/staff/calendars/kojimachi/events/{event.pk}/cancel/").status_code == 200
    clerk_client.post(f"/staff/calendars/kojimachi/events/{event.pk}/cancel/")  # the reason is optional
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    clerk_client.post(f"/staff/calendars/kojimachi/events/{event.pk}/restore/")
    event.refresh_from_db()
    assert event.status == Event.Status.CONFIRMED and event.sequence == 2


def test_a_reader_may_look_but_not_change(client, make_staff, school, make_event):
    event = make_event()
    reader = make_staff(email="reader@example.jp", department="kojimachi-es", role=Role.READ)
    client.force_login(reader.user)
    assert client.get("/staff/calendars/kojimachi/").status_code == 200
    assert client.get(f"/staff/calendars/kojimachi/events/{event.pk}/").status_code == 200
    assert client.post(f"/staff/calendars/kojimachi/events/{event.pk}/cancel/").status_code == 403
    assert client.get("/staff/calendars/kojimachi/import/").status_code == 403
    assert client.post("/staff/calendars/kojimachi/terms/", {"name": "1学期"}).status_code == 403


def test_upload_preview_then_apply(clerk_client, school):
    upload = SimpleUploadedFile("r7.xlsx", sample.as_xlsx())
    response = clerk_client.post("/staff/calendars/kojimachi/import/", {"file": upload})
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/staff/calendars/kojimachi/import/{batch.pk}/"
    preview = clerk_client.get(response["Location"]).content.decode()
    assert "まだ反映されていません。新規 61 件、更新 0 件、変更なし 0 件（ほかに学期の追加・変更 3 件）。" in preview
    assert not Event.objects.exists()
    clerk_client.post(response["Location"] + "apply/", {"apply": "1"})
    assert Event.objects.filter(school=school).count() == 61
    assert ImportBatch.objects.get().state == ImportBatch.State.APPLIED
    assert "反映済み" in clerk_client.get(response["Location"]).content.decode()


def test_a_preview_with_errors_lists_them_by_row_and_cannot_be_applied(clerk_client, school):
    content = "ID,対象,件名,開始日\r\n,全校,始業式,2025年2月30日\r\n,8年,遠足,2025/5/9\r\n".encode()
    response = clerk_client.post("/staff/calendars/kojimachi/import/",
                                 {"file": SimpleUploadedFile("bad.csv", content)})
    page = clerk_client.get(response["Location"]).content.decode()
    assert "2 件のエラーがあります" in page
    assert "「2025年2月30日」という日付はありません" in page and "対象「8年」" in page
    assert "反映する" not in page
    clerk_client.post(response["Location"] + "apply/", {"apply": "1"})
    assert not Event.objects.exists()


def test_an_oversized_upload_is_refused_before_reading(clerk_client, school):
    upload = SimpleUploadedFile("big.csv", b"0" * (20 * 1024 * 1024))
    page = clerk_client.post("/staff/calendars/kojimachi/import/", {"file": upload}).content.decode()
    assert "ファイルが大きすぎます（20.0 MB）" in page
    assert not ImportBatch.objects.exists()


def test_a_preview_can_be_discarded(clerk_client, school):
    batch = services.import_preview(actor="test", school=school, filename="t.csv", content=sample.as_csv())
    clerk_client.post(f"/staff/calendars/kojimachi/import/{batch.pk}/discard/", {"discard": "1"})
    assert ImportBatch.objects.get().state == ImportBatch.State.DISCARDED
    assert not Event.objects.exists()


def test_the_templates_download_as_excel_and_csv(clerk_client):
    xlsx = clerk_client.get("/staff/calendars/template.xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert xlsx.content[:2] == b"PK"
    csv = clerk_client.get("/staff/calendars/template.csv")
    assert csv.content.decode("utf-8-sig").splitlines()[0].startswith("ID,対象,区分,件名,開始日,終了日")


def test_terms_and_class_calendars_are_managed_by_the_school(clerk_client, school):
    clerk_client.post("/staff/calendars/kojimachi/terms/", {"name": "1学期", "start_date": "2025-04-07",
                                                            "end_date": "2025-07-18"})
    assert school.terms.get().name == "1学期"
    page = clerk_client.post("/staff/calendars/kojimachi/terms/", {"name": "2学期", "start_date": "2025-09-01",
                                                                   "end_date": "2026-04-10"}).content.decode()
    assert "同じ年度" in page
    clerk_client.post("/staff/calendars/kojimachi/calendars/new/", {"grade": 3, "class_name": "ひまわり学級"})
    assert calendar_of(school, "3年ひまわり学級").key == "g3-x"


def test_the_school_page_lists_the_years_events(clerk_client, school, make_event, django_assert_max_num_queries):
    for day in range(1, 20):
        make_event(f"行事{day}", start=date(2025, 6, day))
    with django_assert_max_num_queries(20):
        page = clerk_client.get("/staff/calendars/kojimachi/?year=2025").content.decode()
    assert "行事19" in page


def test_a_clerk_moves_a_monthly_event_off_weekends_and_holidays(clerk_client, school):
    page = clerk_client.get("/staff/calendars/kojimachi/events/new/").content.decode()
    assert "繰り返しの日が土日・祝日に当たるとき" in page and "前の平日に移す" in page
    form = {"calendar": calendar_of(school, "全校").pk, "title": "避難訓練", "category": "event",
            "start_date": "2025-04-15", "start_time": "10:40", "end_time": "11:00", "repeat": "monthly",
            "repeat_until": "2026-03-15", "off_day": "previous"}
    response = clerk_client.post("/staff/calendars/kojimachi/events/new/", form)
    event = Event.objects.get()
    assert response.status_code == 302 and event.off_day == "previous"
    detail = clerk_client.get(response["Location"]).content.decode()
    assert "毎月15日（2026年3月15日まで、土日・祝日は前の平日）" in detail
    edit = clerk_client.get(f"/staff/calendars/kojimachi/events/{event.pk}/edit/").content.decode()
    assert '<option value="previous" selected>' in edit


def test_the_weekend_rule_is_refused_without_a_repeat_or_an_end(clerk_client, school):
    base = {"calendar": calendar_of(school, "全校").pk, "title": "朝会", "category": "event",
            "start_date": "2025-04-14", "off_day": "next"}
    page = clerk_client.post("/staff/calendars/kojimachi/events/new/", {**base, "repeat": ""}).content.decode()
    assert "土日・祝日の扱いは繰り返しの予定にだけ指定できます" in page
    page = clerk_client.post("/staff/calendars/kojimachi/events/new/", {**base, "repeat": "weekly"}).content.decode()
    assert "繰り返し終了日（または回数）を入れてください" in page
    assert not Event.objects.exists()
