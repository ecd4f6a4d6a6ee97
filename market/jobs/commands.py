"""`flask jobs worker` (an RQ worker whose jobs run in this app's context) and `flask jobs status ID`."""
import click
from flask import current_app
from flask.cli import with_appcontext

from market.unit_of_work import read_only


@click.group("jobs")
def jobs_cli() -> None:
    """Background jobs on the RQ queue in Redis (REDIS_URL)."""


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty instead of waiting for new jobs.")
@click.option("--queue", "queue_name", default=None, help="Queue to work on (default: JOB_QUEUE_NAME).")
@with_appcontext
@read_only
def worker(burst: bool, queue_name: str | None) -> None:
    """Run the jobs of the queue, one after the other, each in its own app context and unit of work."""
    from rq import SimpleWorker

    from market.jobs.queues import RedisQueue

    config = current_app.config
    if not config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not configured: jobs run inside the web process, no worker needed")
    queue = RedisQueue(config["REDIS_URL"], queue_name or config["JOB_QUEUE_NAME"])
    SimpleWorker([queue.queue], connection=queue.connection).work(burst=burst, with_scheduler=True)


@jobs_cli.command("status")
@click.argument("job_id")
@with_appcontext
@read_only
def status(job_id: str) -> None:
    """Print where a job stands."""
    from market.jobs.queues import job_status

    found = job_status(job_id)
    if found is None:
        raise click.ClickException(f"no job {job_id}")
    progress = f" {found.progress[0]}/{found.progress[1]}" if found.progress else ""
    click.echo(f"{found.id} {found.name}: {found.state}{progress}{' ' + found.error if found.error else ''}")
