"""A minimal client of Gecko's Marionette remote protocol (what Thunderbird's
--marionette serves): length-prefixed JSON, [0, id, command, params] out, [1, id, error,
result] back. Enough to open a session, switch to the chrome context and run scripts."""
import json
import socket
import time


class Marionette:
    def __init__(self, port, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.buffer = b""
        self.next_id = 0
        self.hello = self._read()  # {"applicationType": "gecko", "marionetteProtocol": 3}

    def _read(self):
        while b":" not in self.buffer:
            self._fill()
        size, rest = self.buffer.split(b":", 1)
        size = int(size)
        self.buffer = rest
        while len(self.buffer) < size:
            self._fill()
        body, self.buffer = self.buffer[:size], self.buffer[size:]
        return json.loads(body)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("marionette closed the connection")
        self.buffer += chunk

    def call(self, command, params=None):
        self.next_id += 1
        body = json.dumps([0, self.next_id, command, params or {}]).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body)
        while True:
            reply = self._read()
            if reply[0] == 1 and reply[1] == self.next_id:
                break
        if reply[2]:
            raise RuntimeError("%s: %s" % (command, reply[2]))
        return reply[3]

    def start_chrome_session(self):
        self.call("WebDriver:NewSession", {"capabilities": {}})
        self.call("Marionette:SetContext", {"value": "chrome"})

    def run(self, script, args=None, timeout_ms=60000):
        """Runs an async chrome-context script: it gets `args` as arguments[0..n-1] and
        resolves by calling the last argument; returns that value."""
        self.call("WebDriver:SetTimeouts", {"script": timeout_ms})
        return self.call("WebDriver:ExecuteAsyncScript",
                         {"script": script, "args": args or [], "sandbox": "system"})["value"]
