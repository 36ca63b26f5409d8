"""The mock's state and journal as pandas DataFrames (built on demand, never kept)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Literal

from iterable_sim.lazy import LazyModule
from iterable_sim.mock.journal import JournalEntry, decoded_body
from iterable_sim.mock.state import Project

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")


def _frame(rows: list[dict[str, Any]], columns: list[str], times: Iterable[str] = (),
           unit: Literal["s", "ms"] = "s") -> pd.DataFrame:
    """`times` columns become UTC timestamps from Unix seconds, or milliseconds (`unit="ms"`)."""
    frame = pd.DataFrame(rows, columns=columns)
    for column in times:
        frame[column] = pd.to_datetime(frame[column], unit=unit, utc=True)
    return frame


def users(projects: Iterable[Project]) -> pd.DataFrame:
    rows = [{"data_center": p.data_center, "email": u.email, "userId": u.user_id, "signupDate": u.signup_date,
             "profileUpdatedAt": u.updated_at, "dataFields": u.data_fields, "devices": len(u.devices),
             "browserTokens": len(u.browser_tokens), "cartItems": len(u.cart)}
            for p in projects for u in p.users.values()]
    return _frame(rows, ["data_center", "email", "userId", "signupDate", "profileUpdatedAt", "dataFields",
                         "devices", "browserTokens", "cartItems"], times=("signupDate", "profileUpdatedAt"))


def events(projects: Iterable[Project]) -> pd.DataFrame:
    rows = [{"data_center": p.data_center, "id": e.id, "eventName": e.event_name, "eventType": e.event_type,
             "email": p.users[e.user_uid].email, "userId": p.users[e.user_uid].user_id, "createdAt": e.created_at,
             "dataFields": e.data_fields, "campaignId": e.campaign_id, "templateId": e.template_id}
            for p in projects for e in p.events.values()]
    return _frame(rows, ["data_center", "id", "eventName", "eventType", "email", "userId", "createdAt", "dataFields",
                         "campaignId", "templateId"], times=("createdAt",), unit="ms")


def purchases(projects: Iterable[Project]) -> pd.DataFrame:
    rows = [{"data_center": p.data_center, "id": x.id, "email": p.users[x.user_uid].email,
             "userId": p.users[x.user_uid].user_id, "total": x.total, "items": x.items, "itemCount": len(x.items),
             "createdAt": x.created_at, "dataFields": x.data_fields, "campaignId": x.campaign_id,
             "templateId": x.template_id}
            for p in projects for x in p.purchases.values()]
    return _frame(rows, ["data_center", "id", "email", "userId", "total", "items", "itemCount", "createdAt",
                         "dataFields", "campaignId", "templateId"], times=("createdAt",), unit="ms")


def carts(projects: Iterable[Project]) -> pd.DataFrame:
    rows = [{"data_center": p.data_center, "email": u.email, "userId": u.user_id, "id": item.get("id"),
             "name": item.get("name"), "price": item.get("price"), "quantity": item.get("quantity"), "item": item}
            for p in projects for u in p.users.values() for item in u.cart]
    return _frame(rows, ["data_center", "email", "userId", "id", "name", "price", "quantity", "item"])


def devices(projects: Iterable[Project]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for p in projects:
        for u in p.users.values():
            rows.extend({"data_center": p.data_center, "email": u.email, "userId": u.user_id, "token": d["token"],
                         "platform": d["platform"], "applicationName": d["applicationName"],
                         "dataFields": d["dataFields"]} for d in u.devices.values())
            rows.extend({"data_center": p.data_center, "email": u.email, "userId": u.user_id, "token": token,
                         "platform": "browser", "applicationName": None, "dataFields": {}}
                        for token in u.browser_tokens)
    return _frame(rows, ["data_center", "email", "userId", "token", "platform", "applicationName", "dataFields"])


def catalog_items(projects: Iterable[Project]) -> pd.DataFrame:
    rows = [{"data_center": p.data_center, "catalog": c.name, "itemId": item_id, "value": value,
             "lastModified": c.modified[item_id]}
            for p in projects for c in p.catalogs.values() for item_id, value in c.items.items()]
    return _frame(rows, ["data_center", "catalog", "itemId", "value", "lastModified"], times=("lastModified",))


def journal(entries: Iterable[JournalEntry]) -> pd.DataFrame:
    rows = []
    for e in entries:
        response = decoded_body(e.response_body)
        answer = response if isinstance(response, dict) else {}
        rows.append({"seq": e.seq, "time": e.time, "data_center": e.data_center, "method": e.method,
                     "endpoint": e.endpoint, "url": e.url, "api_key": e.api_key, "status": e.status,
                     "code": answer.get("code"), "msg": answer.get("msg", answer.get("message")),
                     "request": decoded_body(e.request_body), "response": response, "fault": e.fault,
                     "latency": e.latency, "request_headers": e.request_headers})
    return _frame(rows, ["seq", "time", "data_center", "method", "endpoint", "url", "api_key", "status", "code",
                         "msg", "request", "response", "fault", "latency", "request_headers"], times=("time",))
