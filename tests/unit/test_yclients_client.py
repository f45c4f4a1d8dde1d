"""The YCLIENTS client's parsing of the v2 envelope and of the API's loose types."""

import json
from datetime import timedelta

import pytest
import requests

from aiadmin.yclients.client import YclientsClient, YclientsNotFound, YclientsRejected, YclientsUnavailable
from aiadmin.yclients.models import YcCompany, YcRecord, YcService, YcStaff


def response(status: int, body, content_type: str = "application/json") -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = (json.dumps(body) if not isinstance(body, str) else body).encode()
    resp.headers["Content-Type"] = content_type
    return resp


def test_success_false_with_http_200_is_an_error_carrying_the_message():
    with pytest.raises(YclientsRejected) as err:
        YclientsClient.unwrap(response(200, {"success": False, "data": None, "meta": {"message": "Нет доступа"}}))
    assert err.value.message == "Нет доступа"


def test_legacy_error_bodies_and_404s_are_understood():
    legacy = {"errors": {"code": 401, "message": "Необходима авторизация"}, "meta": {"message": ""}}
    with pytest.raises(YclientsRejected) as err:
        YclientsClient.unwrap(response(401, legacy))
    assert err.value.message == "Необходима авторизация" and err.value.upstream_status == 401
    with pytest.raises(YclientsNotFound):
        YclientsClient.unwrap(response(404, {"success": False, "meta": {"message": "not found"}}))
    with pytest.raises(YclientsUnavailable):
        YclientsClient.unwrap(response(200, "<!DOCTYPE html><html></html>", "text/html"))


def test_data_and_meta_are_unwrapped():
    data, meta = YclientsClient.unwrap(response(200, {"success": True, "data": [1, 2], "meta": {"total_count": 2}}))
    assert data == [1, 2] and meta == {"total_count": 2}


def test_loose_types_are_coerced():
    company = YcCompany.model_validate({"id": "962302", "title": "Лилия", "phone": "", "city": []})
    assert company.id == 962302 and company.phone is None and company.city is None
    staff = YcStaff.model_validate({"id": "16", "name": "Вася", "position": [], "fired": "0", "hidden": 1})
    assert staff.id == 16 and staff.position is None and staff.fired is False and staff.hidden is True
    service = YcService.model_validate(
        {"id": "83169", "title": "Стрижка", "price_min": "1300.00", "category_id": "83167"}
    )
    assert service.price_min == 1300.0 and service.category_id == 83167


def test_offsets_with_and_without_colon_mean_the_same_instant():
    a = YcRecord.model_validate({"id": 1, "datetime": "2025-07-13T12:10:00+0500"}).datetime
    b = YcRecord.model_validate({"id": 1, "datetime": "2025-07-13T12:10:00+05:00"}).datetime
    assert a == b and a.utcoffset() == timedelta(hours=5)


def test_authorization_carries_partner_and_user_tokens():
    client = YclientsClient("http://x", "P", "U")
    assert client._headers(with_user=True)["Authorization"] == "Bearer P, User U"
    assert client._headers(with_user=False)["Authorization"] == "Bearer P"
    assert client._headers(True)["Accept"] == "application/vnd.yclients.v2+json"
