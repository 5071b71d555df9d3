"""Plans to FHIR: a CarePlan per treatment plan (its sessions as activities) and an Appointment
per booking. Pure."""

from __future__ import annotations

from datetime import timedelta

from mesoclinic.fhir import codes
from mesoclinic.fhir.build import Resource, fhir_date, instant, note, pruned, ref, staff, validated
from mesoclinic.plans.models import Appointment, PlanSession, TreatmentPlan


def _activity(plan_session: PlanSession) -> Resource:
    code = codes.PROCEDURE_MESOTHERAPY
    words = f"Session {plan_session.sequence} ({plan_session.phase})"
    words += f", planned {plan_session.planned_date}"
    if plan_session.includes_prp:
        words += ", with PRP"
    return {
        "detail": {
            "kind": "Appointment",
            "code": codes.concept(
                codes.coding(codes.PROCEDURE, code, codes.PROCEDURE_DISPLAYS[code])
            ),
            "status": codes.PLAN_SESSION_ACTIVITY_STATUS.get(plan_session.status, "unknown"),
            "scheduledPeriod": {
                "start": fhir_date(plan_session.window_start),
                "end": fhir_date(plan_session.window_end),
            },
            "description": words,
        }
    }


def careplan_resource(plan: TreatmentPlan) -> Resource:
    """A treatment plan from a protocol, with one activity per planned session."""
    return validated(
        pruned(
            {
                "resourceType": "CarePlan",
                "id": str(plan.id),
                "status": codes.CAREPLAN_STATUS.get(plan.status, "unknown"),
                "intent": "plan",
                "title": plan.protocol_name,
                "description": f"Protocol {plan.protocol_code}"
                + (f" ({plan.protocol_source})" if plan.protocol_source else ""),
                "subject": ref("Patient", plan.patient_id),
                "period": {
                    "start": fhir_date(plan.start_date),
                    "end": instant(plan.ended_at) if plan.ended_at else None,
                },
                "created": instant(plan.created_at),
                "author": staff(plan.created_by),
                "activity": [_activity(s) for s in plan.sessions],
                "note": note("\n".join(t for t in (plan.notes, plan.status_reason) if t) or None),
            }
        )
    )


def appointment_resource(
    appointment: Appointment, *, practitioner: str, practitioner_name: str
) -> Resource:
    """A booking: patient, practitioner and room, start and end."""
    end = appointment.starts_at + timedelta(minutes=appointment.duration_minutes)
    cancelled = appointment.status in ("cancelled", "no_show")
    return validated(
        pruned(
            {
                "resourceType": "Appointment",
                "id": str(appointment.id),
                "status": codes.APPOINTMENT_STATUS.get(appointment.status, "booked"),
                "cancelationReason": {"text": appointment.status_reason}
                if cancelled and appointment.status_reason
                else None,
                "serviceType": [
                    codes.concept(
                        codes.coding(
                            codes.PROCEDURE,
                            codes.PROCEDURE_MESOTHERAPY,
                            codes.PROCEDURE_DISPLAYS[codes.PROCEDURE_MESOTHERAPY],
                        )
                    )
                ],
                "start": instant(appointment.starts_at),
                "end": instant(end),
                "minutesDuration": appointment.duration_minutes,
                "created": instant(appointment.created_at),
                "comment": appointment.note,
                "participant": [
                    {"actor": ref("Patient", appointment.patient_id), "status": "accepted"},
                    {"actor": staff(practitioner, practitioner_name), "status": "accepted"},
                    {"actor": {"display": f"Room {appointment.room}"}, "status": "accepted"},
                ],
            }
        )
    )
