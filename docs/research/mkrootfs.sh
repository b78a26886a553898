#!/bin/sh
# Build the rootfs tarball reproducibly, without host mounts (unshare mode).
# usage: mkrootfs.sh OUT.tar   (env SOURCE_DATE_EPOCH honoured; default 1700000000)
set -eu
[ -n "${NOSDE-}" ] && unset SOURCE_DATE_EPOCH || export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH-1700000000}
export TMPDIR=/tmp/research/tmp LC_ALL=C.UTF-8 TZ=UTC
mkdir -p "$TMPDIR"
exec mmdebstrap --mode=unshare --variant=apt \
  --include=linux-image-amd64,systemd-sysv,udev \
  --customize-hook='echo debian > "$1/etc/hostname"' \
  --customize-hook='printf "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n" > "$1/etc/hosts"' \
  --customize-hook='rm -f "$1/etc/resolv.conf"' \
  --customize-hook='rm -f "$1/var/lib/systemd/random-seed" "$1"/etc/ssh/ssh_host_*' \
  --customize-hook=': > "$1/etc/machine-id"' \
  bookworm "$1"
