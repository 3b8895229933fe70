from typing import Annotated

from fastapi import Depends, Request

from townsquare.worker.queue import JobQueue


# async although it waits for nothing: FastAPI runs a plain `def` dependency in a thread.
async def _jobs(request: Request) -> JobQueue:
    jobs: JobQueue = request.app.state.jobs
    return jobs


JobsDep = Annotated[JobQueue, Depends(_jobs)]
