"""OCPP 2.0.1 payload pieces onto the version-neutral model and back: id tokens and their
verdicts. 2.0.1 leaves an absent field out (never null) and writes times with at most three
fraction digits (:func:`csms.domain.events.iso`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from csms.domain.device_model import (
    AttributeType,
    Component,
    Mutability,
    ReportedAttribute,
    ReportedVariable,
    Variable,
)
from csms.domain.events import iso
from csms.domain.metering import ENERGY_REGISTER, MeterSample, scaled
from csms.domain.tokens import IdToken, IdTokenInfo, IdTokenType
from csms.ocppj.times import parse_datetime


def id_token(payload: dict[str, Any]) -> IdToken:
    """An IdTokenType (``{idToken, type, additionalInfo?}``)."""
    return IdToken(payload["idToken"], IdTokenType(payload["type"]))


def id_token_payload(token: IdToken) -> dict[str, Any]:
    # A token without a type came from a 1.6 station or a migrated 1.6 parent: 2.0.1 needs
    # one, and a group id is a CSMS-side identity (Central).
    return {"idToken": token.value, "type": (token.type or IdTokenType.CENTRAL).value}


def id_token_info(info: IdTokenInfo, token: IdToken) -> dict[str, Any]:
    """An IdTokenInfoType for ``token``: its status, until when the station may cache it (not for
    a Central token, which the CSMS issued and stations must not cache), its group."""
    out: dict[str, Any] = {"status": info.status.value}
    if info.expiry_date is not None and token.type is not IdTokenType.CENTRAL:
        out["cacheExpiryDateTime"] = iso(info.expiry_date)
    if info.group is not None:
        out["groupIdToken"] = id_token_payload(info.group)
    return out


def samples(meter_values: list[dict[str, Any]]) -> list[MeterSample]:
    """MeterValueType items as samples: the value scaled by its unit's power-of-ten multiplier
    (2.0.1 UnitOfMeasureType), every qualifier resolved to its default, and a signed reading
    (signedMeterValue) kept beside it as a SignedData sample, as 1.6's SignedData format is."""
    out = []
    for meter_value in meter_values:
        timestamp = parse_datetime(meter_value["timestamp"])
        for sampled in meter_value["sampledValue"]:
            measurand = sampled.get("measurand", ENERGY_REGISTER)
            unit = sampled.get("unitOfMeasure") or {}
            sample = MeterSample(
                timestamp=timestamp,
                value=scaled(sampled["value"], unit.get("multiplier", 0)),
                measurand=measurand,
                phase=sampled.get("phase"),
                # "Default = Wh if the (default) measurand is an Energy type", as in 1.6.
                unit=unit.get("unit", "Wh" if measurand.startswith("Energy.") else ""),
                context=sampled.get("context", "Sample.Periodic"),
                location=sampled.get("location", "Outlet"),
            )
            out.append(sample)
            signed = sampled.get("signedMeterValue")
            if signed is not None:
                out.append(replace(sample, value=signed["signedMeterData"], format="SignedData"))
    return out


def component(payload: dict[str, Any]) -> Component:
    """A ComponentType (``{name, instance?, evse?: {id, connectorId?}}``)."""
    evse = payload.get("evse") or {}
    return Component(payload["name"], payload.get("instance"), evse.get("id"), evse.get("connectorId"))


def variable(payload: dict[str, Any]) -> Variable:
    return Variable(payload["name"], payload.get("instance"))


def reported_variable(item: dict[str, Any]) -> ReportedVariable:
    """A ReportDataType of NotifyReport."""
    return ReportedVariable(
        component=component(item["component"]),
        variable=variable(item["variable"]),
        attributes=tuple(
            ReportedAttribute(
                type=AttributeType(attribute.get("type", AttributeType.ACTUAL.value)),
                value=attribute.get("value"),
                mutability=Mutability(attribute["mutability"]) if "mutability" in attribute else None,
                persistent=attribute.get("persistent"),
                constant=attribute.get("constant"),
            )
            for attribute in item["variableAttribute"]
        ),
        characteristics=item.get("variableCharacteristics"),
    )
