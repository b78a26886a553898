#!/bin/bash
# boot-test.sh DISK.raw {bios|ovmf|pflash} LOG  -> prints seconds until "login:" on ttyS0
set -u
DISK=$1 MODE=$2 LOG=$3 TMO=${TMO:-900}
case $MODE in
  bios)   FW=() ;;
  ovmf)   FW=(-bios /usr/share/ovmf/OVMF.fd) ;;
  pflash) cp /usr/share/OVMF/OVMF_VARS_4M.fd "$LOG.vars"
          FW=(-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
              -drive if=pflash,format=raw,unit=1,file="$LOG.vars") ;;
esac
: > "$LOG"
start=$(date +%s.%N)
qemu-system-x86_64 -accel tcg -m 2048 -smp 1 -display none -monitor none -serial file:"$LOG" \
  -snapshot "${FW[@]}" -drive file="$DISK",format=raw,if=virtio -nic none &
QPID=$!
while kill -0 $QPID 2>/dev/null; do
  if grep -q 'login:' "$LOG"; then
    echo "$MODE: login prompt after $(echo "$(date +%s.%N) - $start" | bc | cut -c1-6) s"
    kill $QPID; wait $QPID 2>/dev/null; exit 0
  fi
  if (( $(echo "$(date +%s.%N) - $start > $TMO" | bc) )); then echo "$MODE: TIMEOUT"; kill $QPID; wait $QPID 2>/dev/null; exit 1; fi
  sleep 1
done
echo "$MODE: qemu exited without login prompt"; exit 1
