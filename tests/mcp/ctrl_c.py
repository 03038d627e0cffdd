"""Ctrl-C typed in a terminal where `agent-strace record` runs a server, for the proxy tests.

Usage: ctrl_c.py terminal LOG COMMAND [ARGS...]
  Runs COMMAND (the proxy) as the foreground job of a terminal of its own (a pseudo-terminal),
  waits for the server's `ready PID` on it, then:
  - stops the proxy (SIGSTOP) and types Ctrl-C: the terminal, not this script, sends SIGINT to
    every process of its foreground process group, as a shell's terminal does;
  - waits until the stopped proxy has its SIGINT pending (the terminal has sent it to the whole
    group) and the server has none pending (it has taken it, if it is in that group);
  - lets the proxy go on (SIGCONT), waits until LOG has SIGINT in it and the proxy has taken
    its own SIGINT, sends the proxy SIGTERM and prints its exit code.
  So a SIGINT the proxy passes on reaches the server after the terminal's has been taken (the
  two cannot merge into one) and before the SIGTERM.
Usage: ctrl_c.py server LOG [own-group]
  A server (in a process group of its own with `own-group`, out of the terminal's reach) that
  writes the name of each SIGINT and SIGTERM it is delivered to LOG, one a line, and exits with
  42 after a SIGTERM. Each delivery counts, however close two come: Python's wakeup fd gets a
  byte for each one.
Either gives up after 60 s, so that a failed run leaves nothing behind.
"""

import os
import pty
import re
import select
import signal
import sys
import time

DEADLINE = time.monotonic() + 60


def server(log_path, own_group):
    if own_group:
        os.setpgid(0, 0)
    log = open(log_path, "a")
    read, write = os.pipe()
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write)
    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, lambda *_: None)
    print(f"ready {os.getpid()}", flush=True)
    while time.monotonic() < DEADLINE:
        if not select.select([read], [], [], 0.1)[0]:
            continue
        # All that came at once before it ends: of two signals pending together, the kernel
        # runs the later one's handler first.
        numbers = os.read(read, 64)
        for number in numbers:
            log.write(signal.Signals(number).name + "\n")
        log.flush()
        if signal.SIGTERM in numbers:
            sys.exit(42)


def pending(pid, number):
    """Whether process `pid` has signal `number` pending (as a process, not one thread)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("ShdPnd:"):
                return int(line.split()[1], 16) >> (number - 1) & 1 == 1
    return False


def terminal(log_path, command):
    proxy, master = pty.fork()
    if proxy == 0:
        os.execv(command[0], command)
    seen = b""

    def until(done, what):
        nonlocal seen
        while not done():
            if time.monotonic() > DEADLINE:
                os.kill(proxy, signal.SIGKILL)
                sys.exit(f"gave up waiting for {what}; the terminal showed {seen!r}")
            if select.select([master], [], [], 0.05)[0]:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    pass

    def logged():
        try:
            with open(log_path) as log:
                return log.read().split()
        except FileNotFoundError:
            return []

    def stopped():
        with open(f"/proc/{proxy}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "T"

    until(lambda: re.search(rb"ready (\d+)", seen), "the server's ready")
    server = int(re.search(rb"ready (\d+)", seen).group(1))
    os.kill(proxy, signal.SIGSTOP)
    until(stopped, "the proxy to stop")
    os.write(master, b"\x03")
    until(lambda: pending(proxy, signal.SIGINT), "the terminal's SIGINT")
    until(lambda: not pending(server, signal.SIGINT), "the server to take its SIGINT")
    os.kill(proxy, signal.SIGCONT)
    until(lambda: "SIGINT" in logged(), "the server's SIGINT in its log")
    until(lambda: not pending(proxy, signal.SIGINT), "the proxy to take its SIGINT")
    os.kill(proxy, signal.SIGTERM)
    status = None

    def ended():
        nonlocal status
        done, status = os.waitpid(proxy, os.WNOHANG)
        return done == proxy

    until(ended, "the proxy's end")
    print(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], sys.argv[3:] == ["own-group"])
    else:
        terminal(sys.argv[2], sys.argv[3:])
