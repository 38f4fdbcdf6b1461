"""Celery tasks of the cases app (scale-out path); each wraps one operation."""

from celery import shared_task


@shared_task(name="cases.tasks.sla_monitor_tick", ignore_result=True)
def sla_monitor_tick() -> dict:
    from cases.monitor import tick

    result = tick()
    return {"warnings": result.warnings, "breaches": result.breaches}


@shared_task(name="cases.tasks.waiting_priority_tick", ignore_result=True)
def waiting_priority_tick() -> dict:
    from cases.waiting import tick

    result = tick()
    return {"rescored": result.rescored, "moved": result.moved}
