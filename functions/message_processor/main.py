"""Message processor: the task target for everything that follows a stored message (POST /tasks/message_processor).

Tasks arrive from the queue (Cloud Tasks, its emulator, or the in-process queue), authenticated by
`handle_task`; the payload's `kind` picks the use case.
"""

import functions_framework

from functions.message_processor.tasks import run_task
from shared.tasks.target import handle_task


@functions_framework.http
def message_processor(request):
    return handle_task(request, run_task)
