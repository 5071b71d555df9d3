"""The FHIR REST face under /fhir (application/fhir+json): metadata, read, search, $everything.

Thin: parse the parameters, call the fhir service (which goes through each area's services, so
scope, patient self-access and audit are theirs), wrap the result in a Bundle. Errors under /fhir
become OperationOutcomes in the app's one error handler (app.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import QueryParams

from mesoclinic.errors import DomainError
from mesoclinic.fhir import codes, reading, search
from mesoclinic.fhir import service as fhir_service
from mesoclinic.fhir.build import Resource
from mesoclinic.fhir.bundles import searchset
from mesoclinic.fhir.capability import INCLUDES, READ_TYPES, capability_statement
from mesoclinic.fhir.code_systems import code_system
from mesoclinic.fhir.params import (
    BadParameter,
    parse_birthdate,
    parse_date,
    parse_reference,
    parse_token,
)
from mesoclinic.outcomes.kinds import KindBook, load_kinds
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import MAX_OFFSET, Allowed, DbSession, public
from mesoclinic.security.permissions import Permission

router = APIRouter(prefix="/fhir", tags=["fhir"])
Reader = Annotated[Actor, Allowed(Permission.FHIR_READ)]
DEFAULT_COUNT = 20
MAX_COUNT = 100
PUBLISHED = "2026-12-01"


class FhirResponse(JSONResponse):
    media_type = codes.FHIR_JSON


def bad_parameter(error: BadParameter) -> DomainError:
    """A search parameter the server cannot use: 400 naming the parameter."""
    return DomainError(error.message, error.name, "invalid", 400)


def _book(request: Request) -> KindBook:
    return load_kinds(request.app.state.settings.measurement_kinds)


def base_url(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}/fhir"


def _int(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadParameter(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def _paging(params: QueryParams, default: int = DEFAULT_COUNT) -> tuple[int, int]:
    count = _int(params, "_count", default, 0, max(default, MAX_COUNT))  # 0: the total only
    return count, _int(params, "_offset", 0, 0, MAX_OFFSET)


def _page_url(request: Request, offset: int) -> str:
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k != "_offset"]
    pairs.append(("_offset", str(offset)))
    return f"{base_url(request)}{request.url.path.removeprefix('/fhir')}?{urlencode(pairs)}"


def _bundle(
    request: Request,
    resources: list[Resource],
    *,
    total: int,
    count: int,
    offset: int,
    included: list[Resource] | None = None,
) -> FhirResponse:
    after = offset + count
    bundle = searchset(
        resources,
        base=base_url(request),
        total=total,
        self_url=str(request.url),
        next_url=_page_url(request, after) if count and after < total else None,
        previous_url=_page_url(request, max(0, offset - count)) if offset else None,
        included=included,
    )
    return FhirResponse(bundle)


def _id(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise DomainError(f"{raw!r} is not a {what} id (a UUID)", "id", "invalid", 422) from exc


@router.get("/metadata", response_class=FhirResponse, summary="CapabilityStatement")
@public
def metadata(request: Request) -> FhirResponse:
    """What this server implements (open to anyone, as FHIR clients expect)."""
    return FhirResponse(capability_statement(base_url(request), published=PUBLISHED))


@router.get("/CodeSystem/{resource_id}", response_class=FhirResponse, summary="Read CodeSystem")
@public
def read_code_system(resource_id: str, request: Request) -> FhirResponse:
    """One of mesoclinic's own CodeSystems (no patient data, so open like the metadata)."""
    resource = code_system(resource_id, _book(request))
    if resource is None:
        raise DomainError(f"No CodeSystem {resource_id!r} on this server", "id", "not_found", 404)
    return FhirResponse(resource)


@router.get(
    "/Patient/{patient_id}/$everything", response_class=FhirResponse, summary="Patient $everything"
)
def patient_everything(
    patient_id: str, request: Request, session: DbSession, actor: Reader
) -> FhirResponse:
    """The whole record the caller may read, as one searchset Bundle (`_count` pages it)."""
    try:
        count, offset = _paging(request.query_params, default=MAX_OFFSET)
    except BadParameter as error:
        raise bad_parameter(error) from error
    pid = _id(patient_id, "patient")
    resources = fhir_service.everything(session, actor, pid, _book(request))
    page = resources[offset : offset + count]
    return _bundle(request, page, total=len(resources), count=count, offset=offset)


def _read_route(resource_type: str) -> Callable[..., FhirResponse]:
    def read(resource_id: str, request: Request, session: DbSession, actor: Reader) -> FhirResponse:
        rid = _id(resource_id, resource_type)
        resource = reading.read(session, actor, resource_type, rid, _book(request))
        return FhirResponse(resource)

    read.__name__ = f"read_{resource_type.lower()}"
    read.__doc__ = f"Read one {resource_type} by its id."
    return read


for _type in READ_TYPES:
    router.add_api_route(
        f"/{_type}/{{resource_id}}",
        _read_route(_type),
        methods=["GET"],
        response_class=FhirResponse,
        summary=f"Read {_type}",
    )


@router.get("/Patient", response_class=FhirResponse, summary="Search Patient")
def search_patients(request: Request, session: DbSession, actor: Reader) -> FhirResponse:
    """Patients by `name`, `birthdate` and `identifier` (record number), in the caller's scope."""
    params = request.query_params
    try:
        count, offset = _paging(params)
        birthdate = parse_birthdate(params["birthdate"]) if "birthdate" in params else None
        identifier = (
            parse_token("identifier", params["identifier"]) if "identifier" in params else None
        )
    except BadParameter as error:
        raise bad_parameter(error) from error
    query = search.PatientSearch(
        name=params.get("name"), birthdate=birthdate, identifier=identifier
    )
    page = search.search_patients(session, actor, query, count=count, offset=offset)
    return _bundle(request, page.resources, total=page.total, count=count, offset=offset)


def _clinical(request: Request, resource_type: str, actor: Actor) -> tuple[Any, int, int, bool]:
    params = request.query_params
    try:
        count, offset = _paging(params)
        raw_patient = params.get("patient") or params.get("subject")
        patient_ref = parse_reference("patient", raw_patient, "Patient") if raw_patient else None
        dates = [parse_date("date", v) for v in params.getlist("date")]
        tokens = [parse_token("code", v) for raw in params.getlist("code") for v in raw.split(",")]
        includes = params.getlist("_include")
        unknown = [i for i in includes if i not in INCLUDES.get(resource_type, ())]
        if unknown:
            raise BadParameter("_include", f"{unknown[0]!r} is not supported here")
        query = search.ClinicalSearch(search.subject_of(actor, patient_ref), dates, tokens)
    except BadParameter as error:
        raise bad_parameter(error) from error
    return query, count, offset, bool(includes)


def _search_route(resource_type: str) -> Callable[..., FhirResponse]:
    def run(request: Request, session: DbSession, actor: Reader) -> FhirResponse:
        query, count, offset, include_patient = _clinical(request, resource_type, actor)
        matches = search.clinical_search(session, actor, resource_type, query, _book(request))
        page = matches[offset : offset + count]
        included = None
        if include_patient and page:
            included = [fhir_service.patient_entry(session, actor, query.patient_id).resource]
        return _bundle(
            request, page, total=len(matches), count=count, offset=offset, included=included
        )

    run.__name__ = f"search_{resource_type.lower()}"
    run.__doc__ = f"Search one patient's {resource_type} resources (see /fhir/metadata)."
    return run


for _type in ("Observation", "Procedure", "Condition", "Appointment"):
    router.add_api_route(
        f"/{_type}",
        _search_route(_type),
        methods=["GET"],
        response_class=FhirResponse,
        summary=f"Search {_type}",
    )
