"""The receive-lot form's clinic choice: a malformed or unknown clinic id is a 422 against the
field, never a 500, and no lot is stored."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from mesoclinic.formulary.models import Lot
from support import csrf_from, new_id


def test_a_malformed_or_unknown_clinic_is_refused_on_the_form(world: Any, product: Any) -> None:
    web = world.web("admin")
    expiry = (date.today() + timedelta(days=200)).isoformat()
    for clinic_id in ("garbage", new_id()):
        token = csrf_from(web.get("/stock").text)
        r = web.post(
            "/stock/lots",
            data={
                "csrf_token": token,
                "clinic_id": clinic_id,
                "product_id": product["id"],
                "batch_number": "Z-1",
                "expires_on": expiry,
                "quantity_ml": "20",
            },
        )
        assert r.status_code == 422, (clinic_id, r.status_code)
        assert 'aria-describedby="e-clinic_id"' in r.text or "Choose the clinic" in r.text
    with world.db.factory() as s:
        assert s.execute(select(Lot)).first() is None
