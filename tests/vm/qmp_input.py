"""Relays input requests from the guest to qemu's QMP socket (the virtio tablet and keyboard).

The guest writes a JSON list of QMP `input-send-event` events to out/input/ID.req (see
guest/lib.sh, vm_tablet_move); this relay sends them to qemu and answers with ID.done holding
"ok" or qemu's error, so guest checks drive real evdev devices through libinput.
"""

import json
import socket
import threading
import time
from pathlib import Path


class QmpInputRelay(threading.Thread):
    def __init__(self, socket_path, request_dir, alive):
        super().__init__(daemon=True)
        self.socket_path = str(socket_path)
        self.dir = Path(request_dir)
        self.alive = alive  # callable: is qemu still running?
        self.error = None

    def _connect(self):
        deadline = time.monotonic() + 30
        while True:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(self.socket_path)
                return sock
            except OSError:
                sock.close()
                if time.monotonic() > deadline or not self.alive():
                    raise
                time.sleep(0.05)

    def _command(self, stream, sock, execute, arguments=None):
        msg = {"execute": execute}
        if arguments is not None:
            msg["arguments"] = arguments
        sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            line = stream.readline()
            if not line:
                raise ConnectionError("qemu closed the QMP socket")
            reply = json.loads(line)
            if "event" in reply:  # asynchronous events are not our answer
                continue
            return reply

    def _serve(self, stream, sock, request):
        """A list of events is one input-send-event (one evdev frame); {"path": [[x, y], ...],
        "interval_ms": N} moves the tablet through the points, one frame each, N ms apart
        (host-timed, so a long motion costs the guest one request)."""
        if isinstance(request, dict):
            interval = float(request.get("interval_ms", 16)) / 1000
            batches = [[{"type": "abs", "data": {"axis": "x", "value": int(x)}},
                        {"type": "abs", "data": {"axis": "y", "value": int(y)}}] for x, y in request["path"]]
        else:
            interval, batches = 0, [request]
        for i, events in enumerate(batches):
            if i:
                time.sleep(interval)
            reply = self._command(stream, sock, "input-send-event", {"events": events})
            if "return" not in reply:
                return json.dumps(reply.get("error", reply))
        return "ok"

    def run(self):
        try:
            sock = self._connect()
        except OSError as e:
            self.error = f"cannot connect to QMP at {self.socket_path}: {e}"
            return
        with sock, sock.makefile("r") as stream:
            try:
                stream.readline()  # greeting
                self._command(stream, sock, "qmp_capabilities")
                while self.alive():
                    requests = sorted(self.dir.glob("*.req"))
                    for req in requests:
                        try:
                            answer = self._serve(stream, sock, json.loads(req.read_text()))
                        except (ValueError, OSError) as e:
                            answer = f"bad request {req.name}: {e}"
                        tmp = req.with_suffix(".tmp-done")
                        tmp.write_text(answer + "\n")
                        tmp.replace(req.with_suffix(".done"))
                        req.unlink()
                    if not requests:
                        time.sleep(0.02)
            except (OSError, ConnectionError, ValueError) as e:
                if self.alive():
                    self.error = f"QMP relay stopped: {e}"
