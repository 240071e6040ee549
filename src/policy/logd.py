#!/usr/bin/python3 -I
# egresshub-logd: Squid's access-log daemon (squid.conf `logfile_daemon`, `access_log daemon:<dir>/access.log`).
# Squid hands every log line to this process through a pipe and never waits on the disk; this process writes the
# lines to size-rotated files within a budget sized from the log filesystem, and drops and counts what it cannot
# write (full disk, I/O error) instead of exiting: Squid kills itself when its log daemon goes away
# (src/log/ModDaemon.cc: a write error on the pipe is fatal), so this process only ever ends at end of input.
# Files: <dir>/access.<UTC time>.<n>.log, the newest one also reachable as <dir>/access.log (a symlink); the
# CloudWatch agent follows `access.*.log` and removes each file once it has read it and a newer one exists
# (auto_removal). What was lost is reported as one JSON line a minute in REPORT_DIR (tmpfs, so a full log disk
# cannot silence it), where the agent picks it up for the AccessLogLinesLost metric (docs/operations.md).
# Python 3.9+ standard library only (Amazon Linux 2023's system Python is 3.9). Parameters: argv[1] the log path;
# EGRESSHUB_LOGD_BUDGET / EGRESSHUB_LOGD_FILE_BYTES (bytes) and EGRESSHUB_LOGD_REPORT_DIR override the budget, the
# file size and the report directory (tests).
import errno
import fcntl
import json
import os
import re
import select
import signal
import sys
import time

# Squid's protocol (src/log/file/log_file_daemon.cc): one command per line, the first byte says which.
LINE, ROTATE, FLUSH = ord("L"), ord("R"), ord("F")
# Share of the log filesystem the access logs may take, and files per budget.
BUDGET_SHARE = 0.25
FILES_PER_BUDGET = 8
MIN_FILE_BYTES = 64 * 1024
REPORT_DIR = os.environ.get("EGRESSHUB_LOGD_REPORT_DIR") or "/dev/shm/egresshub-logd"
REPORT_SECONDS = 60
REPORT_MAX_BYTES = 1024 * 1024
ROTATED = re.compile(r"^access\.(\d{8}T\d{6}Z)\.(\d+)\.log$")


def sizes(path):
    """Budget and file size: from the environment when set, else a share of the filesystem holding `path`."""
    st = os.statvfs(os.path.dirname(path) or ".")
    budget = int(os.environ.get("EGRESSHUB_LOGD_BUDGET") or st.f_frsize * st.f_blocks * BUDGET_SHARE)
    per_file = int(os.environ.get("EGRESSHUB_LOGD_FILE_BYTES") or max(MIN_FILE_BYTES, budget // FILES_PER_BUDGET))
    return budget, min(per_file, budget)


class Writer:
    def __init__(self, path):
        self.path = path
        self.dir = os.path.dirname(path) or "."
        self.budget, self.file_bytes = sizes(path)
        self.fd = -1
        self.size = 0
        self.dropped = 0
        self.evicted = 0
        self.reason = ""
        self.reported_at = time.monotonic()
        self.report = report_file(path)
        self.follow()

    # ---------------------------------------------------------------- files

    def locked(self, work):
        """Runs `work` holding a lock on the log directory: with SMP every Squid worker has its own daemon."""
        dfd = os.open(self.dir, os.O_RDONLY)
        try:
            fcntl.flock(dfd, fcntl.LOCK_EX)
            return work()
        finally:
            os.close(dfd)

    def open_current(self, name):
        fd = os.open(os.path.join(self.dir, name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        if self.fd >= 0:
            os.close(self.fd)
        self.fd = fd
        self.size = os.fstat(fd).st_size

    def new_file(self):
        """A new current file and the symlink to it; under the directory lock."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        n = 0
        while True:
            name = "access.%s.%d.log" % (stamp, n)
            try:
                os.close(os.open(os.path.join(self.dir, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640))
                break
            except FileExistsError:
                n += 1
        tmp = os.path.join(self.dir, ".access.log.%d" % os.getpid())
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(name, tmp)
        os.replace(tmp, self.path)
        self.open_current(name)
        self.enforce_budget()

    def follow(self):
        """Opens what access.log names; makes it when missing, or when it is a plain file (an older release's log)."""

        def work():
            if os.path.islink(self.path) and os.path.exists(self.path):
                self.open_current(os.readlink(self.path))
                return
            if os.path.lexists(self.path) and not os.path.islink(self.path):
                stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(os.stat(self.path).st_mtime))
                os.replace(self.path, os.path.join(self.dir, "access.%s.0.log" % stamp))
            self.new_file()

        self.locked(work)

    def moved(self):
        """Has access.log moved on (another worker rotated, or the directory was swapped) since we opened it?"""
        try:
            return os.stat(self.path).st_ino != os.fstat(self.fd).st_ino
        except OSError:
            return True

    def rotate(self):
        def work():
            # Another worker may have rotated already: then follow it rather than rotate again.
            if self.moved() and os.path.exists(self.path):
                self.open_current(os.readlink(self.path))
            else:
                self.new_file()

        self.locked(work)

    def enforce_budget(self):
        """Deletes the oldest files beyond the budget; their lines were never read by the agent (it removes what it
        has read), so they count as lost: `evicted`."""
        files = []
        for name in os.listdir(self.dir):
            m = ROTATED.match(name)
            if m:
                p = os.path.join(self.dir, name)
                try:
                    files.append(((m.group(1), int(m.group(2))), p, os.stat(p).st_size))
                except OSError:
                    pass
        files.sort()
        total = sum(f[2] for f in files)
        current = os.fstat(self.fd).st_ino if self.fd >= 0 else -1
        for _, p, size in files:
            if total <= self.budget:
                break
            try:
                if os.stat(p).st_ino == current:
                    break
                self.evicted += count_lines(p)
                os.unlink(p)
                self.reason = self.reason or "budget"
                total -= size
            except OSError:
                pass

    # ---------------------------------------------------------------- lines

    def write(self, data):
        if not data:
            return
        try:
            if self.moved():
                self.follow()
            if self.size > 0 and self.size + len(data) > self.file_bytes:
                self.rotate()
        except OSError as e:
            self.note(e)
        if self.fd < 0:
            self.drop(data, "no log file")
            return
        done = 0
        while done < len(data):
            try:
                n = os.write(self.fd, data[done:])
            except OSError as e:
                self.note(e)
                break
            if n <= 0:
                break
            done += n
        self.size += done
        if done < len(data):
            # A line cut by the failed write counts as lost too.
            cut = 0 if done == 0 or data[done - 1] == 10 else 1
            self.dropped += data.count(b"\n", done) + cut

    def note(self, e):
        self.reason = errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__

    def drop(self, data, reason):
        self.dropped += data.count(b"\n")
        self.reason = self.reason or reason

    def maybe_report(self, final=False):
        if not final and time.monotonic() - self.reported_at < REPORT_SECONDS:
            return
        self.reported_at = time.monotonic()
        if self.dropped == 0 and self.evicted == 0:
            return
        line = json.dumps(
            {
                "egresshub": "access-log-loss",
                "lost": self.dropped + self.evicted,
                "dropped": self.dropped,
                "evicted": self.evicted,
                "reason": self.reason,
                "log": self.path,
                "pid": os.getpid(),
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            separators=(",", ":"),
        )
        try:
            os.makedirs(REPORT_DIR, mode=0o755, exist_ok=True)
            fd = os.open(self.report, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            try:
                # Bounded: the agent re-reads a truncated file from its start.
                if os.fstat(fd).st_size > REPORT_MAX_BYTES:
                    os.ftruncate(fd, 0)
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)
            self.dropped = self.evicted = 0
            self.reason = ""
        except OSError:
            pass  # Counted on: reported with the next report that gets through.


def report_file(path):
    return os.path.join(REPORT_DIR, re.sub(r"[^A-Za-z0-9_.-]", "-", path.strip("/")) + ".jsonl")


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return n


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: egresshub-logd <log file>\n")
        return 2
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # Squid closes the pipe, then sends SIGTERM (ModDaemon.cc): read what is left, report, and only then end.
    signal.signal(signal.SIGTERM, lambda *_: TERMINATED.append(time.monotonic()))
    # SIGUSR1: report now rather than within the minute (the lab's faults and soak read the count at once).
    signal.signal(signal.SIGUSR1, lambda *_: REPORT_NOW.append(1))
    w = None
    while w is None:
        try:
            w = Writer(sys.argv[1])
        except OSError as e:
            # The directory is unusable (missing, not ours): keep reading (and counting, and reporting) so that
            # Squid never stalls, and retry.
            w = Unusable(sys.argv[1], errno.errorcode.get(e.errno, "OSError"))
            if consume(w, 1.0) is None:
                return 0
            dropped, w = w.dropped, None
            UNWRITTEN[0] = dropped
    w.dropped += UNWRITTEN[0]
    consume(w, None)
    return 0


class Unusable:
    """Stands in for Writer while the log directory cannot be used: counts every line as dropped, and reports."""

    def __init__(self, path, reason):
        self.path = path
        self.dropped = UNWRITTEN[0]
        self.evicted = 0
        self.reason = reason
        self.reported_at = time.monotonic()
        self.report = report_file(path)

    def write(self, data):
        self.dropped += data.count(b"\n")

    def rotate(self):
        pass

    def drop(self, data, reason):
        self.write(data)

    def maybe_report(self, final=False):
        Writer.maybe_report(self, final)


# Lines lost while the log directory could not be used (carried over to the writer).
UNWRITTEN = [0]
# When SIGTERM came: the process ends at end of input, or TERM_GRACE seconds after it at the latest.
TERMINATED = []
TERM_GRACE = 5.0
REPORT_NOW = []


def consume(w, seconds):
    """Hands Squid's lines to `w` until end of input (returns None) or, with `seconds`, until that time has passed."""
    stdin = sys.stdin.fileno()
    rest = b""
    until = time.monotonic() + seconds if seconds else None
    while True:
        ready, _, _ = select.select([stdin], [], [], 0.5 if TERMINATED else 1.0)
        w.maybe_report(final=bool(REPORT_NOW) or (bool(TERMINATED) and time.monotonic() - TERMINATED[0] > TERM_GRACE))
        del REPORT_NOW[:]
        if TERMINATED and time.monotonic() - TERMINATED[0] > TERM_GRACE:
            return None
        if until is not None and time.monotonic() > until:
            return rest
        if not ready:
            continue
        chunk = os.read(stdin, 1 << 16)
        if not chunk:
            w.maybe_report(final=True)
            return None
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        out = []
        for line in lines:
            if not line:
                continue
            if line[0] == LINE:
                out.append(line[1:] + b"\n")
            elif line[0] == ROTATE:
                try:
                    w.write(b"".join(out))
                    out = []
                    w.rotate()
                except Exception as e:  # noqa: BLE001 (this process must outlive any error)
                    w.reason = type(e).__name__
        try:
            w.write(b"".join(out))
        except Exception as e:  # noqa: BLE001
            w.drop(b"".join(out), type(e).__name__)


if __name__ == "__main__":
    sys.exit(main())
