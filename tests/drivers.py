"""One scenario, two doors: the same steps of a case through the HTML pages or the JSON API."""

from __future__ import annotations

import re

from tests.casework import Api, Browser


class HtmlDriver:
    name = "html"

    def __init__(self, app, district):
        self.app, self.district = app, district
        self._as: dict[int, Browser] = {}

    def _b(self, user) -> Browser:
        if user.id not in self._as:
            self._as[user.id] = Browser(self.app, self.district, user)
        return self._as[user.id]

    def enroll(self, data: dict) -> int:
        client = self.app.test_client()
        from tests.factories import csrf_token

        page = client.get(f"/t/{self.district.slug}/enroll")
        form = {k: ("y" if v is True else v) for k, v in data.items() if v not in (None, False)}
        response = client.post(
            f"/t/{self.district.slug}/enroll", data={**form, "csrf_token": csrf_token(page.text)}
        )
        assert response.status_code == 200 and "Thank you" in response.text, response.text
        coordinator = self._b(self.district.people["coordinator"])
        intake = coordinator.get("/cases/intake").text
        return max(int(n) for n in re.findall(r"/cases/(\d+)", intake))

    def act(self, user, case_id: int, action: str, **payload):
        response = self._b(user).post(
            f"/cases/{case_id}", f"/cases/{case_id}/actions/{action}", payload
        )
        return response.status_code == 302, response.text

    def propose(self, user, case_id: int, ct_id: int) -> None:
        response = self._b(user).post(
            f"/cases/{case_id}", f"/cases/{case_id}/assignment", {"ct_id": ct_id}
        )
        assert response.status_code == 302, response.text

    def review(self, user, case_id: int, assignment_id: int, approve: bool) -> None:
        response = self._b(user).post(
            f"/cases/{case_id}",
            f"/cases/{case_id}/assignment/{assignment_id}/review",
            {"decision": "approve" if approve else "object", "comment": "" if approve else "no"},
        )
        assert response.status_code == 302, response.text

    def log_visit(self, user, case_id: int, visit_type: str, on: str) -> None:
        response = self._b(user).post(
            f"/cases/{case_id}",
            f"/cases/{case_id}/visits",
            {
                "visit_type": visit_type,
                "visited_on": on,
                "duration_minutes": "45",
                "notes": "Observed a reading lesson",
                "shared_with_teacher": "y",
            },
        )
        assert response.status_code == 302, response.text

    def recommend(self, user, case_id: int, rating: str) -> None:
        ct = self._b(user)
        draft = {"rating": rating, "rationale": "Eight observations show steady, real growth."}
        path = f"/cases/{case_id}/recommendation"
        shown = ct.post(f"/cases/{case_id}", path, draft)
        assert shown.status_code == 200 and "Confirm and send to the panel" in shown.text, (
            shown.text
        )
        response = ct.post(f"/cases/{case_id}", path, {**draft, "confirm": "y"})
        assert response.status_code == 302, response.text

    def page(self, user, case_id: int) -> str:
        return self._b(user).get(f"/cases/{case_id}").text


class ApiDriver:
    name = "api"

    def __init__(self, app, district):
        self.app, self.district = app, district
        self._as: dict[int, Api] = {}

    def _a(self, user) -> Api:
        if user.id not in self._as:
            self._as[user.id] = Api(self.app, self.district, user)
        return self._as[user.id]

    def enroll(self, data: dict) -> int:
        response = self._a(self.district.people["coordinator"]).post("/enrollments", json=data)
        assert response.status_code == 201, response.json
        return response.json["id"]

    def act(self, user, case_id: int, action: str, **payload):
        response = self._a(user).post(
            f"/cases/{case_id}/transitions", json={"action": action, "payload": payload}
        )
        return response.status_code == 200, response.json

    def propose(self, user, case_id: int, ct_id: int) -> None:
        response = self._a(user).post(f"/cases/{case_id}/assignment", json={"ct_id": ct_id})
        assert response.status_code == 201, response.json

    def review(self, user, case_id: int, assignment_id: int, approve: bool) -> None:
        response = self._a(user).post(
            f"/cases/{case_id}/assignment/{assignment_id}/reviews",
            json={"approve": approve, "comment": None if approve else "no"},
        )
        assert response.status_code == 200, response.json

    def log_visit(self, user, case_id: int, visit_type: str, on: str) -> None:
        response = self._a(user).post(
            f"/cases/{case_id}/visits",
            json={
                "visit_type": visit_type,
                "visited_on": on,
                "duration_minutes": 45,
                "notes": "Observed a reading lesson",
            },
        )
        assert response.status_code == 201, response.json

    def recommend(self, user, case_id: int, rating: str) -> None:
        response = self._a(user).post(
            f"/cases/{case_id}/recommendation",
            json={"rating": rating, "rationale": "Eight observations show steady, real growth."},
        )
        assert response.status_code == 201, response.json

    def page(self, user, case_id: int) -> str:
        return str(self._a(user).get(f"/cases/{case_id}").json)


DRIVERS = [HtmlDriver, ApiDriver]
