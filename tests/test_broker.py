"""The embedded broker of `make run`: a message reaches the queue folder whole, never half."""

import json

from kombu import Connection

import expenses_portal.celery  # noqa: F401  (registers the alias, as every process does)
from expenses_portal import broker


def _connection(tmp_path):
    folders = {name: tmp_path / name for name in ("queue", "processed", "staging", "control")}
    for folder in folders.values():
        folder.mkdir()
    options = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "staging_folder": str(folders["staging"]),
        # (kombu would otherwise make ./control wherever the tests run)
        "control_folder": str(folders["control"]),
    }
    return Connection("filesystem://", transport_options=options), folders


def test_celery_uses_the_whole_message_transport_for_filesystem_urls():
    assert Connection("filesystem://").transport_cls == "filesystem"
    assert Connection("filesystem://").get_transport_cls() is broker.Transport


def test_a_message_is_renamed_into_the_queue_whole(tmp_path):
    connection, folders = _connection(tmp_path)
    with connection:
        queue = connection.SimpleQueue("work")
        queue.put({"task": "x" * 10_000})
        # Nothing is left in staging; the queue folder holds one complete JSON message.
        assert list(folders["staging"].iterdir()) == []
        [message_file] = list(folders["queue"].iterdir())
        assert message_file.name.endswith(".work.msg")
        json.loads(message_file.read_bytes())
        received = queue.get(timeout=1)
        assert received.payload == {"task": "x" * 10_000}
        received.ack()
        queue.close()
