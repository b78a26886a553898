// The installer's agent, written into the installer's image by the NetworkInstaller service.
// Python, standard library only (see docs/installer.md). Edit it here: this
// is its only copy, and the tests run it from here.
extension NetworkInstaller {
    /// `/usr/local/sbin/imagec-install`.
    public static let agent = #"""
#!/usr/bin/python3
"""imagec's installer agent: writes a host's new image into the root slot it is not running.

Runs in the installer's initramfs, started with the kernel arguments imagec.server= and
imagec.token= that `imagec serve` put in the machine's iPXE script (or with --server and
--token). It finds the root disk by serial, WWN or by-path; on an empty disk it writes the
partition table and the partitions imagec owns, slot A; on a disk imagec partitioned it checks
the layout and writes the slot that is not the default. It reads each block of that slot and
copies from the other slot, or fetches, only the blocks whose SHA-256 differs from the image's
block index, checks every block it fetches, and reads back every block it wrote once synced, so
that every block of the slot is checked against the index. It writes the host's identity
into the slot, sets the slot to be tried once at the next boot (GRUB environment), and kexecs
into it (a reboot where kexec fails). Each step is reported to the server; a failure is reported with its step and output,
and leaves the default slot as it was.

With --in-place it runs on the machine's own running system instead (imagec starts it over SSH,
the boot server reached through the SSH connection): it writes the slot the machine does not run
the same way, through the mounted EFI system partition's GRUB environment, and switches with
`systemctl kexec` (a clean stop, no firmware), the hardware watchdog armed for the trial where
there is one. With --boot-slot it only switches the running system into a slot: a rollback.

Python's standard library only, and these programs: sfdisk, lsblk, wipefs, mtype/mcopy (mtools), debugfs, kexec.
"""

import argparse
import base64
import concurrent.futures
import ctypes
import hashlib
import http.client
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

SECTOR = 512
ENVIRONMENT = "::/grub/grubenv"
ENVIRONMENT_SIZE = 1024
ENVIRONMENT_HEADER = "# GRUB Environment Block\n"
LARGEST_FETCH = 8 << 20
RETRIES = 5
STARTED = time.monotonic()


class Failure(Exception):
    """A step failed: what, and the output of the command that failed, if any."""

    def __init__(self, message, output=""):
        super().__init__(message)
        self.output = output


class Server:
    """The boot server: keep-alive HTTP, retried when the connection drops."""

    def __init__(self, base, token):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port or 80
        self.prefix = f"/deploys/{token}"
        self.connection = None
        self.fetched = 0

    def request(self, method, path, body=None, headers=None, expect=(200,)):
        for attempt in range(RETRIES):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.connection.request(method, self.prefix + path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                data = response.read()
                if response.status not in expect:
                    raise Failure(f"{method} {path}: HTTP {response.status}", data.decode("utf-8", "replace"))
                return response, data
            except (OSError, http.client.HTTPException) as error:
                self.connection = None
                if attempt == RETRIES - 1:
                    raise Failure(f"{method} {path}: the boot server does not answer ({error})")
                time.sleep(min(2 ** attempt, 10))

    def json(self, path):
        return json.loads(self.request("GET", path)[1])

    def blocks(self, offset, length):
        _, data = self.request("GET", "/disk", headers={"Range": f"bytes={offset}-{offset + length - 1}"}, expect=(206,))
        self.fetched += len(data)
        return data

    def report(self, kind, **fields):
        fields["elapsed"] = round(time.monotonic() - STARTED, 2)  # for the steps' durations
        body = json.dumps({"kind": kind, **{k: v for k, v in fields.items() if v is not None}}).encode()
        try:
            self.request("POST", "/reports", body=body, headers={"Content-Type": "application/json"}, expect=(204,))
        except Failure as failure:
            print(f"imagec-install: cannot report: {failure}", file=sys.stderr)


def run(*command):
    result = subprocess.run(command, capture_output=True)
    if result.returncode != 0:
        raise Failure(f"{command[0]} failed (exit {result.returncode})", (result.stdout + result.stderr).decode("utf-8", "replace"))
    return result.stdout


def find_disk(selector, override):
    """The root disk's device: never by its kernel name, which can change between boots."""
    if override:
        return override
    if "byPath" in selector:
        link = f"/dev/disk/by-path/{selector['byPath']}"
        if not os.path.exists(link):
            raise Failure(f"no disk at {link}")
        return os.path.realpath(link)
    disks = json.loads(run("lsblk", "--json", "--nodeps", "--output", "PATH,SERIAL,WWN,TYPE"))["blockdevices"]
    key, wanted = ("serial", selector["serial"]) if "serial" in selector else ("wwn", selector["wwn"])
    matches = [d["path"] for d in disks if d.get("type") == "disk" and (d.get(key) or "").strip() == wanted]
    if len(matches) != 1:
        seen = ", ".join(f"{d['path']} ({key} {d.get(key)})" for d in disks)
        raise Failure(f"{len(matches)} disks have {key} {wanted}; the disks are: {seen or 'none'}")
    return matches[0]


def disk_size(fd):
    return os.lseek(fd, 0, os.SEEK_END)


def partition_table(disk):
    """The disk's GPT partitions by name, or None if it holds nothing: no partition table, and
    no file system or other signature on the whole disk (which is never overwritten)."""
    result = subprocess.run(["sfdisk", "--json", disk], capture_output=True)
    if result.returncode != 0:
        signatures = run("wipefs", "--no-act", "--noheadings", "--output", "TYPE", disk).decode().split()
        if signatures:
            raise Failure(f"{disk} has no partition table but holds {', '.join(sorted(set(signatures)))}: imagec does not overwrite it")
        return None
    table = json.loads(result.stdout)["partitiontable"]
    if table.get("label") != "gpt":
        raise Failure(f"{disk} has a {table.get('label')} partition table, not imagec's GPT: imagec does not overwrite it")
    return {p.get("name", ""): (int(p["start"]), int(p["size"])) for p in table.get("partitions", [])}


def check_layout(disk, table, partitions):
    """Every partition imagec owns is where the image has it; anything else is left alone."""
    problems = []
    for p in partitions:
        found = table.get(p["name"])
        if found is None:
            problems.append(f"partition '{p['name']}' is missing")
        elif found != (p["start"], p["sectors"]):
            problems.append(f"partition '{p['name']}' is at sectors {found[0]}+{found[1]}, the image has it at {p['start']}+{p['sectors']}")
    if problems:
        raise Failure(f"the layout of {disk} is not this image's; imagec does not move partitions it may not own: " + "; ".join(problems))


LIBC = ctypes.CDLL(None, use_errno=True)
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE = 0x01, 0x02, 0x10


def zero(fd, offset, length):
    """Zeroes bytes offset..offset+length of the disk the fast way: the device's write-zeroes
    (or a hole punched in a disk file), one system call, no program started. Not blkdiscard,
    which opens the disk exclusively: a running system has its other partitions mounted."""
    mode = FALLOC_FL_PUNCH_HOLE if stat.S_ISREG(os.fstat(fd).st_mode) else FALLOC_FL_ZERO_RANGE
    if LIBC.fallocate(fd, mode | FALLOC_FL_KEEP_SIZE, ctypes.c_int64(offset), ctypes.c_int64(length)) != 0:
        error = ctypes.get_errno()
        raise Failure(f"cannot zero bytes {offset}+{length} of the disk: {os.strerror(error)}")


ZEROS = {}
HASHERS = concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
READER = concurrent.futures.ThreadPoolExecutor(max_workers=1)


def block_digest(data):
    """A block's SHA-256; a block of zeros (an empty slot's) is compared, not hashed, which
    costs far less where the installer's CPU is slow."""
    zeros = ZEROS.get(len(data))
    if zeros is None:
        zeros = ZEROS[len(data)] = (bytes(len(data)), hashlib.sha256(bytes(len(data))).hexdigest())
    return zeros[1] if data == zeros[0] else hashlib.sha256(data).hexdigest()


def block_digests(data, size, numbers=None):
    """The digests of data's blocks of `size` bytes (those whose `numbers` are given), on
    every CPU: hashlib lets go of the GIL while it hashes."""
    view = memoryview(data)
    numbers = range((len(data) + size - 1) // size) if numbers is None else numbers
    return dict(zip(numbers, HASHERS.map(lambda n: block_digest(view[n * size:(n + 1) * size]), numbers)))


def write_part(fd, server, index, target, progress, seed=None, zeroed=False):
    """Makes bytes target..target+length of the disk hold the indexed part of the image, and
    checks every block of it against the image's block index (a SHA-256 per 64 KiB block).

    A block already there is kept; one that the seed (the other slot, usually an older image of
    the same host) holds at the same place is copied from it; only the others are fetched, in
    runs of up to 8 MiB, each block checked against its SHA-256; a run of holes is zeroed in one
    request (write-zeroes), never read or hashed. The disk is read a run of up to 8 MiB of data
    at a time, its blocks hashed on every CPU. Once synced, every block written is read back
    from the disk (not the page cache) and checked again; with the blocks kept, checked as they
    were read, that covers every block of data the image has. On a part just `zeroed`, nothing
    is read: every block of data is fetched. Returns the bytes written."""
    size, offset, length = index["blockSize"], index["offset"], index["length"]
    blocks = index["blocks"]
    state = {"written": 0, "checked": 0, "reported": time.monotonic(), "run": None, "hole": None}
    written = []  # the runs of blocks written: (first, end)
    # The runs of data blocks, up to LARGEST_FETCH each, in the order they are read; the next
    # one is read ahead (pread lets go of the GIL) while the current one is hashed.
    runs = []
    for number, digest in enumerate(blocks):
        if digest is not None:
            if runs and runs[-1][1] == number and number - runs[-1][0] < LARGEST_FETCH // size:
                runs[-1][1] += 1
            else:
                runs.append([number, number + 1])
    reading = {"next": 0, "ahead": None}

    def slot_bytes(first, end):
        start, stop = first * size, min(end * size, length)
        return bytes(stop - start) if zeroed else os.pread(fd, stop - start, target + start)

    # The run of data blocks read last: its first block, its bytes, their digests, the seed's.
    window = {"first": 0, "end": 0, "local": b"", "digests": {}, "seed": b"", "seeds": {}}

    def read(number):
        """Reads the run of data blocks from `number` of the slot, and of the seed where the
        slot's blocks differ from the image's."""
        first, end = runs[reading["next"]]
        assert first == number, f"block {number} read out of order (run {first}..{end})"
        local = reading["ahead"].result() if reading["ahead"] else slot_bytes(first, end)
        reading["next"] += 1
        following = runs[reading["next"]] if reading["next"] < len(runs) else None
        reading["ahead"] = READER.submit(slot_bytes, *following) if following else None
        start, stop = first * size, min(end * size, length)
        digests = block_digests(local, size)
        differ = [n for n in digests if digests[n] != blocks[number + n]]
        other, seeds = b"", {}
        if differ and seed is not None:
            other = os.pread(fd, stop - start, seed + start)
            seeds = block_digests(other, size, differ)
        window.update(first=number, end=end, local=local, digests=digests, seed=other, seeds=seeds)

    def write(first, data):
        os.pwrite(fd, data, target + first * size)
        state["written"] += len(data)
        end = first + (len(data) + size - 1) // size
        if written and written[-1][1] == first:
            first = written.pop()[0]
        written.append((first, end))

    def fetch(first, end):
        start, stop = first * size, min(end * size, length)
        for attempt in range(RETRIES):
            data = server.blocks(offset + start, stop - start)
            digests = block_digests(data, size)
            bad = [first + n for n in sorted(digests) if digests[n] != blocks[first + n]]
            if not bad and len(data) == stop - start:
                break
            if attempt == RETRIES - 1:
                raise Failure(f"block {bad[0] if bad else first} of the image does not match its SHA-256 after {RETRIES} tries "
                              f"(got {len(data)} of {stop - start} bytes)")
        write(first, data)

    def flush():
        if state["run"] is not None:
            fetch(state["run"], number)
            state["run"] = None

    number = 0
    for number, digest in enumerate(blocks):
        if time.monotonic() - state["reported"] > 2:
            progress(server.fetched, state["written"], length)
            state["reported"] = time.monotonic()
        if digest is None:
            # A hole: zeroed with its neighbours in one request when the part is not zeroed yet.
            flush()
            if state["hole"] is None:
                state["hole"] = number
            if number + 1 < len(blocks) and blocks[number + 1] is None:
                continue
            first, state["hole"] = state["hole"], None
            if not zeroed:
                zero(fd, target + first * size, min((number + 1) * size, length) - first * size)
            continue
        if not window["first"] <= number < window["end"]:
            read(number)
        n = number - window["first"]
        if window["digests"][n] == digest:
            state["checked"] += 1
        elif window["seeds"].get(n) == digest:
            write(number, window["seed"][n * size:(n + 1) * size])
        else:
            # Fetched, with the blocks next to it.
            if state["run"] is not None and (number - state["run"]) * size >= LARGEST_FETCH:
                flush()
            if state["run"] is None:
                state["run"] = number
            continue
        flush()
    number = len(blocks)
    flush()
    os.fsync(fd)
    # Every block written, read back from the disk itself.
    for first, end in written:
        for start in range(first, end, LARGEST_FETCH // size):
            stop = min(start + LARGEST_FETCH // size, end)
            place, count = target + start * size, min(stop * size, length) - start * size
            os.posix_fadvise(fd, place, count, os.POSIX_FADV_DONTNEED)
            digests = block_digests(os.pread(fd, count, place), size)
            bad = [start + n for n in sorted(digests) if digests[n] != blocks[start + n]]
            if bad or len(digests) != stop - start:
                raise Failure(f"block {bad[0] if bad else start} of the slot does not hold what was written to it: the disk may be failing")
            state["checked"] += len(digests)
    data = sum(digest is not None for digest in blocks)
    if state["checked"] != data:
        raise Failure(f"{state['checked']} blocks of the slot were checked, the image has {data}")
    progress(server.fetched, state["written"], length)
    return state["written"]


def read_environment(disk, esp):
    text = run("mtype", "-i", f"{disk}@@{esp['start'] * SECTOR}", ENVIRONMENT).decode("utf-8", "replace")
    if not text.startswith(ENVIRONMENT_HEADER):
        raise Failure("the EFI system partition holds no GRUB environment block")
    values = {}
    for line in text[len(ENVIRONMENT_HEADER):].split("\n"):
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def write_environment(disk, esp, values):
    text = ENVIRONMENT_HEADER + "".join(f"{k}={v}\n" for k, v in sorted(values.items()))
    block = (text + "#" * (ENVIRONMENT_SIZE - len(text))).encode()
    with tempfile.NamedTemporaryFile() as file:
        file.write(block)
        file.flush()
        run("mcopy", "-o", "-i", f"{disk}@@{esp['start'] * SECTOR}", file.name, ENVIRONMENT)


def inject_identity(disk, slot, identity):
    """Writes the host's keys and machine ID into the slot's ext4 file system, without mounting it."""
    device = f"{disk}?offset={slot['start'] * SECTOR}"
    with tempfile.TemporaryDirectory() as folder:
        requests = []
        for number, entry in enumerate(identity["files"]):
            local = os.path.join(folder, str(number))
            with open(local, "wb") as file:
                file.write(base64.b64decode(entry["contents"]))
            path = entry["path"]
            requests += [f"rm {path}", f"write {local} {path}",
                         f"set_inode_field {path} mode 0{0o100000 | int(entry['mode']):o}",
                         f"set_inode_field {path} uid 0", f"set_inode_field {path} gid 0"]
        script = os.path.join(folder, "requests")
        with open(script, "w") as file:
            file.write("\n".join(requests) + "\n")
        run("debugfs", "-w", "-f", script, device)
        # debugfs reports a failed request on its output, not in its exit status.
        for entry in identity["files"]:
            check = run("debugfs", "-R", f"stat {entry['path']}", device).decode("utf-8", "replace")
            if "Inode:" not in check:
                raise Failure(f"the host's {entry['path']} could not be written into the slot", check)


def boot_arguments(disk, slot):
    """The kernel, initramfs and command line of the slot's own GRUB entry."""
    device = f"{disk}?offset={slot['start'] * SECTOR}"
    config = run("debugfs", "-R", "cat /boot/grub/grub.cfg", device).decode()
    linux = next((l.split(None, 2) for l in config.splitlines() if l.strip().startswith("linux ")), None)
    initrd = next((l.split()[1] for l in config.splitlines() if l.strip().startswith("initrd ")), None)
    if linux is None or initrd is None:
        raise Failure("the slot's /boot/grub/grub.cfg has no linux and initrd lines", config)

    def resolve(path):
        for _ in range(8):
            stat = run("debugfs", "-R", f"stat {path}", device).decode()
            if "Fast link dest:" not in stat and "Type: symlink" not in stat:
                return path
            target = stat.split("Fast link dest:")[1].split("\n")[0].strip().strip('"')
            path = target if target.startswith("/") else os.path.join(os.path.dirname(path), target)
        raise Failure(f"{path}: too many symbolic links")

    return resolve(linux[1].strip()), resolve(initrd), linux[2].strip() if len(linux) > 2 else ""


def kexec_into(disk, slot):
    kernel, initrd, arguments = boot_arguments(disk, slot)
    device = f"{disk}?offset={slot['start'] * SECTOR}"
    folder = tempfile.mkdtemp()
    run("debugfs", "-R", f"dump {kernel} {folder}/kernel", device)
    run("debugfs", "-R", f"dump {initrd} {folder}/initrd", device)
    run("kexec", "--load", f"{folder}/kernel", f"--initrd={folder}/initrd", f"--append={arguments}")
    subprocess.run(["sync"])
    run("kexec", "--exec")


MOUNTED_ENVIRONMENT = "/boot/efi/grub/grubenv"


def running_slot():
    """The root slot the running system booted: `a` or `b` (from its root's partition name)."""
    source = run("findmnt", "-no", "SOURCE", "/").decode().strip()
    label = run("lsblk", "-no", "PARTLABEL", source).decode().strip()
    if label not in ("root-a", "root-b"):
        raise Failure(f"the running root {source} is not a root slot (its partition name is '{label}')")
    return label[-1]


def read_mounted_environment():
    with open(MOUNTED_ENVIRONMENT, "rb") as file:
        text = file.read().decode("utf-8", "replace")
    if not text.startswith(ENVIRONMENT_HEADER):
        raise Failure(f"{MOUNTED_ENVIRONMENT} is not a GRUB environment block")
    return dict(line.split("=", 1) for line in text[len(ENVIRONMENT_HEADER):].split("\n")
                if line and not line.startswith("#") and "=" in line)


def write_mounted_environment(values):
    """Rewrites the block in place, as GRUB's save_env does: same size, same clusters."""
    text = ENVIRONMENT_HEADER + "".join(f"{k}={v}\n" for k, v in sorted(values.items()) if v != "")
    with open(MOUNTED_ENVIRONMENT, "r+b") as file:
        file.write((text + "#" * (ENVIRONMENT_SIZE - len(text))).encode())
        file.flush()
        os.fsync(file.fileno())


def switch(disk, slot, watchdog):
    """Loads the slot's kernel for kexec, and has systemd arm the hardware watchdog for the kexec
    and the boot after it (KExecWatchdogSec, where the machine has a watchdog)."""
    kernel, initrd, arguments = boot_arguments(disk, slot)
    device = f"{disk}?offset={slot['start'] * SECTOR}"
    folder = tempfile.mkdtemp()
    run("debugfs", "-R", f"dump {kernel} {folder}/kernel", device)
    run("debugfs", "-R", f"dump {initrd} {folder}/initrd", device)
    run("kexec", "--load", f"{folder}/kernel", f"--initrd={folder}/initrd", f"--append={arguments}")
    if watchdog and any(name.startswith("watchdog") for name in os.listdir("/dev")):
        # A drop-in in /run (gone after the kexec) that systemd reads on reload: a system without
        # D-Bus has no bus to set the property on, and systemd disarms a watchdog it has no
        # kexec time-out for.
        os.makedirs("/run/systemd/system.conf.d", exist_ok=True)
        with open("/run/systemd/system.conf.d/50-imagec-kexec-watchdog.conf", "w") as file:
            file.write(f"# Written by imagec for the kexec into a slot on trial.\n[Manager]\nKExecWatchdogSec={watchdog}s\n")
        run("systemctl", "daemon-reload")
        shown = run("systemctl", "show", "--property=KExecWatchdogUSec", "--value").decode().strip()
        if shown in ("", "0", "infinity"):
            raise Failure(f"systemd did not take the kexec watchdog time-out ({shown!r}): a trial that hangs would not be reset")


def install_in_place(arguments, server, step):
    """The slot the running system does not run, written while it runs; the trial armed."""
    image, partitions, by_name, disk = plan_and_disk(arguments, server, step)
    table = partition_table(disk)
    if table is None:
        raise Failure(f"{disk} holds no partition table: the running system is not on it")
    check_layout(disk, table, partitions)
    running = running_slot()
    environment = read_mounted_environment()
    if environment.get("default_slot", "a") != running:
        raise Failure(f"this machine runs slot {running}, but its default slot is {environment.get('default_slot', 'a')}: "
                      "a trial is in progress (imagec deploy --resume, or imagec rollback)")
    target = "b" if running == "a" else "a"
    slot = by_name[f"root-{target}"]

    step("write slot", slot=target)
    fd = os.open(disk, os.O_RDWR)
    try:
        write_part(fd, server, image["slot"], slot["start"] * SECTOR, progress("write slot", server, target),
                   seed=by_name[f"root-{running}"]["start"] * SECTOR)
    finally:
        os.close(fd)

    write_identity(server, step, disk, slot, target)

    step("next boot", slot=target)
    switch(disk, slot, arguments.watchdog)
    # The kexec is the slot's one trial (a reset during it, or a panic, boots the default slot);
    # the token says which deploy armed it, for a deploy that resumes.
    environment.update({"trial_slot": target, "trial_left": "0", "trial_token": arguments.token[:16]})
    write_mounted_environment(environment)
    return target


def boot_slot(arguments):
    """Switches the running system into a slot: as a trial (a rollback by hand), or as the
    default (a trial that failed its checks, given up)."""
    slot = arguments.boot_slot
    root = run("findmnt", "-no", "SOURCE", "/").decode().strip()
    disk = arguments.disk or "/dev/" + run("lsblk", "-no", "PKNAME", root).decode().strip()
    table = partition_table(disk) or {}
    if f"root-{slot}" not in table:
        raise Failure(f"{disk} has no partition root-{slot}")
    switch(disk, {"start": table[f"root-{slot}"][0]}, arguments.watchdog)
    environment = read_mounted_environment()
    if arguments.trial:
        environment.update({"trial_slot": slot, "trial_left": "0", "trial_token": ""})
    else:
        if environment.get("trial_slot", "") not in ("", slot):
            environment["failed_slot"] = environment["trial_slot"]
        environment.update({"default_slot": slot, "trial_slot": "", "trial_left": "0", "trial_token": ""})
    write_mounted_environment(environment)
    if not arguments.no_boot:
        run("systemctl", "--no-block", "kexec")


def plan_and_disk(arguments, server, step):
    """The image's partitions (a list, and by name) and the root disk the plan names."""
    step("plan")
    plan = server.json("/plan.json")
    image = server.json("/slot-image.json")
    step("find disk")
    return image, image["partitions"], {p["name"]: p for p in image["partitions"]}, find_disk(plan["rootDisk"], arguments.disk)


def write_identity(server, step, disk, slot, target):
    step("identity", slot=target)
    _, data = server.request("GET", "/identity")
    inject_identity(disk, slot, json.loads(data))


def install(arguments, server, step):
    image, partitions, by_name, disk = plan_and_disk(arguments, server, step)
    esp = by_name["esp"]
    fd = os.open(disk, os.O_RDWR)
    try:
        end = max(p["start"] + p["sectors"] for p in partitions) * SECTOR
        if disk_size(fd) < end + 34 * SECTOR:
            raise Failure(f"{disk} has {disk_size(fd)} bytes; the image's partitions need {end + 34 * SECTOR}")
        table = partition_table(disk)
        if table is None:
            # An empty disk: the partition table, the boot partitions, the declared ones.
            step("partition")
            zero(fd, 0, image["head"]["length"])
            write_part(fd, server, image["head"], 0, progress("partition", server), zeroed=True)
            run("sfdisk", "--relocate", "gpt-bak-std", disk)
            if not arguments.disk:
                subprocess.run(["blockdev", "--rereadpt", disk], capture_output=True)  # busy: we hold it open; sfdisk told the kernel
            target, first = "a", True
        else:
            check_layout(disk, table, partitions)
            environment = read_environment(disk, esp)
            target = "b" if environment.get("default_slot", "a") == "a" else "a"
            first = False
        slot = by_name[f"root-{target}"]

        step("write slot", slot=target)
        other = None if first else by_name[f"root-{'a' if target == 'b' else 'b'}"]["start"] * SECTOR
        if first:
            zero(fd, slot["start"] * SECTOR, image["slot"]["length"])
        write_part(fd, server, image["slot"], slot["start"] * SECTOR, progress("write slot", server, target), seed=other, zeroed=first)
    finally:
        os.close(fd)

    write_identity(server, step, disk, slot, target)

    step("next boot", slot=target)
    environment = {"default_slot": "a"} if first else read_environment(disk, esp)
    environment.update({"trial_slot": target, "trial_left": "1"})
    write_environment(disk, esp, environment)
    return disk, esp, slot, target, environment


def progress(name, server, slot=None):
    return lambda fetched, written, total: server.report("progress", step=name, slot=slot, fetched=fetched, written=written, total=total)


def kernel_arguments():
    try:
        with open("/proc/cmdline") as file:
            words = file.read().split()
    except OSError:
        return {}
    return dict(word.split("=", 1) for word in words if word.startswith("imagec.") and "=" in word)


def main():
    given = kernel_arguments()
    parser = argparse.ArgumentParser(description="imagec's installer: writes the new image into the inactive root slot.")
    parser.add_argument("--server", default=given.get("imagec.server"), help="the boot server, http://HOST:PORT")
    parser.add_argument("--token", default=given.get("imagec.token"), help="the deploy's token")
    parser.add_argument("--disk", help="write this disk (or image file) instead of the one the plan names")
    parser.add_argument("--no-boot", action="store_true", help="stop once the slot is the next boot: no kexec, no reboot")
    parser.add_argument("--in-place", action="store_true", help="run on the machine's own system: write the slot it does not run, "
                        "then `systemctl kexec` into it")
    parser.add_argument("--boot-slot", choices=["a", "b"], help="only switch the running system into this slot (with --trial: on trial)")
    parser.add_argument("--trial", action="store_true", help="with --boot-slot: the slot is tried once, not made the default")
    parser.add_argument("--watchdog", type=int, default=0, help="seconds the hardware watchdog gives the kexec and the boot after it")
    arguments = parser.parse_args()
    if arguments.boot_slot:
        try:
            boot_slot(arguments)
        except Failure as failure:
            print(f"imagec-install: {failure}\n{failure.output}", file=sys.stderr)
            return 1
        return 0
    if not arguments.server or not arguments.token:
        parser.error("no boot server or token: give --server and --token, or boot with imagec.server= and imagec.token=")
    server = Server(arguments.server, arguments.token)
    current = {"step": "start", "slot": None}

    def step(name, slot=None):
        current.update(step=name, slot=slot)
        print(f"imagec-install: {name}" + (f" (slot {slot})" if slot else ""), file=sys.stderr, flush=True)
        server.report("step", step=name, slot=slot)

    try:
        if arguments.in_place:
            target = install_in_place(arguments, server, step)
        else:
            disk, esp, slot, target, environment = install(arguments, server, step)
    except Exception as error:
        # Anything unforeseen is reported as a failure of its step too.
        failure = error if isinstance(error, Failure) else Failure(f"{type(error).__name__}: {error}", traceback.format_exc())
        print(f"imagec-install: {current['step']}: {failure}\n{failure.output}", file=sys.stderr)
        server.report("failed", step=current["step"], slot=current["slot"], message=str(failure), output=failure.output[-8000:])
        if not arguments.no_boot and not arguments.in_place:
            subprocess.run(["reboot", "-f"])  # the default slot, unchanged
        return 1
    server.report("done", step="next boot", slot=target, fetched=server.fetched)
    if arguments.no_boot:
        return 0
    if arguments.in_place:
        # systemd stops every service and unmounts, then kexecs: the users' processes end here.
        return subprocess.run(["systemctl", "--no-block", "kexec"]).returncode
    # The kexec is the slot's one trial: a reset during it boots the default slot.
    try:
        write_environment(disk, esp, {**environment, "trial_left": "0"})
        kexec_into(disk, slot)
    except Failure as failure:
        # The reboot is the trial then.
        print(f"imagec-install: kexec: {failure}; rebooting instead", file=sys.stderr)
        write_environment(disk, esp, environment)
    subprocess.run(["reboot", "-f"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
"""#
}
