"""kombu's filesystem transport with messages that appear whole: the broker of `make run`.

kombu writes a message by opening its final file name and then writing into it, while a worker
polling the folder moves and reads any `.msg` file it sees, with no lock. A worker that reads a
message still being written gets an empty or cut-off body and dies of a JSONDecodeError (seen
in `make run`: the web server queued a task as the worker polled). Here a message is written
under a staging folder on the same disk and renamed into the queue folder, which is atomic, so
a reader sees either nothing or the whole message. Celery's alias "filesystem" points here
(expenses_portal/celery.py), so settings and URLs stay as they were.
"""

import os
import uuid
from pathlib import Path
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # The same name kombu gives (time first, so the reader's sort keeps the order).
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staging = Path(
            self.transport_options.get("staging_folder")
            or Path(self.data_folder_out).parent / "staging"
        )
        staging.mkdir(parents=True, exist_ok=True)
        temporary = staging / name
        try:
            temporary.write_bytes(dumps(payload).encode())
            os.replace(temporary, Path(self.data_folder_out) / name)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise ChannelError(f"Cannot add message {name!r} to the queue folder") from exc


class Transport(filesystem.Transport):
    Channel = Channel
