#!/usr/bin/python3
"""udev itself runs systemd/99-sortd.rules on simulated devices.

umockdev (a fake /sys and /dev) provides a USB scanner, a USB label printer, a USB serial (CDC)
scanner, a USB keyboard and a USB-serial adapter; `udevadm test` (the real rule engine, reading
the rules from a private /run/udev/rules.d) says what it would do to each. Checked:
  - the rules parse without a warning;
  - scanners and printers of the listed vendors get GROUP=sortd, MODE=0660, the systemd tag
    and SORTD_DEVICE=<kind>; the serial scanner also /dev/sortd/scanner-<serial number>;
  - a keyboard and an unnamed serial adapter are left alone, and so is a `remove` event.
Run inside tests/systemd/in_private_run.sh (a private /run; /etc/group gets a "sortd" group
through a bind mount in the same private mount namespace).
    udev_rules.py RULES_FILE WORK_DIR
"""
import os
import re
import shutil
import subprocess
import sys

RULES, WORK = sys.argv[1], sys.argv[2]
GID = 987
ROOT_HUB = """P: /devices/pci0000:00/0000:00:14.0/usb1
N: bus/usb/001/001
E: DEVTYPE=usb_device
E: SUBSYSTEM=usb
A: idVendor=1d6b
A: idProduct=0002
"""


def usb_device(port, devnum, vid, pid, serial="", product=""):
    return """P: /devices/pci0000:00/0000:00:14.0/usb1/%s
N: bus/usb/001/%03d
E: DEVNAME=/dev/bus/usb/001/%03d
E: DEVTYPE=usb_device
E: SUBSYSTEM=usb
E: PRODUCT=%x/%x/100
A: idVendor=%s
A: idProduct=%s
A: busnum=1
A: devnum=%d
A: serial=%s
A: manufacturer=test
A: product=%s
""" % (port, devnum, devnum, int(vid, 16), int(pid, 16), vid, pid, devnum, serial, product)


def usb_tty(port, devnum, vid, pid, serial, kernel, driver, major):
    return """P: /devices/pci0000:00/0000:00:14.0/usb1/%s/%s:1.0/tty/%s
N: %s
E: DEVNAME=/dev/%s
E: SUBSYSTEM=tty
E: MAJOR=%d
E: MINOR=0

P: /devices/pci0000:00/0000:00:14.0/usb1/%s/%s:1.0
E: DEVTYPE=usb_interface
E: DRIVER=%s
E: SUBSYSTEM=usb
A: bInterfaceClass=02
A: bInterfaceNumber=00

""" % (port, port, kernel, kernel, kernel, major, port, port, driver) + usb_device(
        port, devnum, vid, pid, serial, "serial device")


# name, umockdev description, sysfs path, action, expected: None (left alone) or (kind, link)
CASES = [
    ("Zebra/Symbol LS2208 scanner 05e0:1200", usb_device("1-1", 2, "05e0", "1200"),
     "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1", "add", ("scanner", None)),
    ("Zebra ZD420 printer 0a5f:0120", usb_device("1-3", 4, "0a5f", "0120"),
     "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-3", "add", ("printer", None)),
    ("TSC printer 1203:0230", usb_device("1-4", 5, "1203", "0230"),
     "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-4", "add", ("printer", None)),
    ("Honeywell Voyager serial (CDC) scanner 0c2e:0b61 on ttyACM0",
     usb_tty("1-2", 3, "0c2e", "0b61", "17250B1234", "ttyACM0", "cdc_acm", 166),
     "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/tty/ttyACM0", "change",
     ("scanner", "/dev/sortd/scanner-17250B1234")),
    ("Logitech keyboard 046d:c31c", usb_device("1-5", 6, "046d", "c31c"),
     "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-5", "add", None),
    ("FTDI adapter 0403:6001 on ttyUSB0 (not named in the rules)",
     usb_tty("1-6", 7, "0403", "6001", "A10KZP3X", "ttyUSB0", "ftdi_sio", 188),
     "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-6/1-6:1.0/tty/ttyUSB0", "add", None),
    ("Zebra scanner removed", usb_device("1-1", 2, "05e0", "1200"),
     "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1", "remove", None),
]

failures = []


def check(ok, what):
    print(("ok:   " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failures.append(what)


def main():
    if not os.path.isdir("/run") or os.listdir("/run"):
        print("run me inside in_private_run.sh (a private, empty /run)")
        return 2
    udevadm = shutil.which("udevadm") or "/usr/bin/udevadm"
    if not os.path.exists(udevadm) or not shutil.which("umockdev-run"):
        print("udevadm (package udev) or umockdev-run (package umockdev) is missing: scripts/setup.sh")
        return 1
    os.makedirs(WORK, exist_ok=True)
    # The service group, in this mount namespace only.
    group = os.path.join(WORK, "group")
    with open("/etc/group") as src, open(group, "w") as dst:
        dst.write(src.read().rstrip("\n") + "\nsortd:x:%d:\n" % GID)
    subprocess.run(["mount", "--bind", group, "/etc/group"], check=True)
    os.makedirs("/run/udev/rules.d")
    shutil.copy(RULES, "/run/udev/rules.d/99-sortd.rules")

    for name, desc, syspath, action, expected in CASES:
        dev = os.path.join(WORK, re.sub(r"[^a-z0-9]+", "-", name.lower()) + ".umockdev")
        with open(dev, "w") as f:
            f.write(desc + "\n" + ROOT_HUB)
        r = subprocess.run(["umockdev-run", "-d", dev, "--", udevadm, "test",
                            "--action=" + action, syspath],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out = r.stdout
        if r.returncode != 0:
            check(False, "%s: udevadm test exit %d:\n%s" % (name, r.returncode, out[-2000:]))
            continue
        # Problems with the rules file itself are logged with "99-sortd.rules:LINE" and no
        # device name in front.
        problems = [l for l in out.splitlines()
                    if "99-sortd.rules" in l and not re.match(r"^\S+: /run/udev/rules.d/", l)
                    and not l.startswith("Reading rules file")]
        check(not problems, "%s: the rules parse cleanly %s" % (name, problems[:3]))
        props = dict(l.split("=", 1) for l in out.splitlines() if re.match(r"^[A-Z_]+=", l))
        ours = [l for l in out.splitlines() if re.match(r"^\S+: /run/udev/rules.d/99-sortd", l)]
        group_set = any(re.search(r"99-sortd\.rules:\d+ GROUP %d$" % GID, l) for l in ours)
        mode_set = any(re.search(r"99-sortd\.rules:\d+ MODE 0660$", l) for l in ours)
        tags = props.get("CURRENT_TAGS", props.get("TAGS", ""))
        if expected is None:
            # On remove, udev shows the properties it stored at add (SORTD_DEVICE among them):
            # what matters is that none of the rules' lines ran.
            acted = [l for l in ours if re.search(r"rules:\d+ (GROUP|MODE|OWNER|LINK|TAG)", l)]
            check(not acted and "/dev/sortd/" not in props.get("DEVLINKS", "") and
                  (action == "remove" or "SORTD_DEVICE" not in props),
                  "%s (%s): left alone %s" % (name, action, acted[:3]))
            continue
        kind, link = expected
        check(props.get("SORTD_DEVICE") == kind, "%s: SORTD_DEVICE=%s (got %r)"
              % (name, kind, props.get("SORTD_DEVICE")))
        check(group_set and mode_set, "%s: GROUP sortd (%d), MODE 0660" % (name, GID))
        check(":systemd:" in tags, "%s: tagged for systemd (%s)" % (name, tags))
        if link:
            check(link in props.get("DEVLINKS", "").split(), "%s: link %s (DEVLINKS=%s)"
                  % (name, link, props.get("DEVLINKS", "")))
    print("%d case(s), %d failure(s)" % (len(CASES), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
