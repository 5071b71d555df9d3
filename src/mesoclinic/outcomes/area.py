"""The outcomes area: marked sites, measurements, clinical images and their analysis."""

from mesoclinic.area import Area

AREA = Area(
    name="outcomes",
    models="mesoclinic.outcomes.models",
    # analysis jobs, review and correction (outcomes-jobs)
    routers=("mesoclinic.outcomes.review_api", "mesoclinic.outcomes.review_pages"),
    cli=("mesoclinic.outcomes.review_cli",),
    worker_tasks=("mesoclinic.outcomes.jobs_worker:run_pending",),
)
