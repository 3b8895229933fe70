from typing import Annotated

from fastapi import Depends, Request

from townsquare.worker.queue import JobQueue


def _jobs(request: Request) -> JobQueue:
    jobs: JobQueue = request.app.state.jobs
    return jobs


JobsDep = Annotated[JobQueue, Depends(_jobs)]
