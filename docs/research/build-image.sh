#!/bin/bash
# build-image.sh ROOTFS.tar OUT.raw   (ROOTFS.tar is created with mmdebstrap if missing)
# Reproducible, bootable (SeaBIOS + UEFI) Debian GPT raw image from an mmdebstrap
# tarball. No loop devices, no mounts, no grub-install: everything is written
# into regular files (sfdisk, mke2fs -d, debugfs, mtools, grub-mkimage, dd).
set -euo pipefail

TAR=$1; OUT=$2
SDE=${SOURCE_DATE_EPOCH:-1700000000}
export SOURCE_DATE_EPOCH=$SDE E2FSPROGS_FAKE_TIME=$SDE LC_ALL=C TZ=UTC

# 0. rootfs tarball (only if not given): unshare mode => no host mounts;
#    SOURCE_DATE_EPOCH makes mmdebstrap + mkinitramfs reproducible.
if [ ! -e "$TAR" ]; then
  mkdir -p /tmp/research/tmp
  TMPDIR=/tmp/research/tmp mmdebstrap --mode=unshare --variant=apt \
    --include=linux-image-amd64,systemd-sysv,udev \
    --customize-hook='echo debian > "$1/etc/hostname"' \
    --customize-hook='printf "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n" > "$1/etc/hosts"' \
    --customize-hook='rm -f "$1/etc/resolv.conf"' \
    --customize-hook='rm -f "$1/var/lib/systemd/random-seed" "$1"/etc/ssh/ssh_host_*' \
    --customize-hook=': > "$1/etc/machine-id"' \
    bookworm "$TAR"
fi
TAR=$(realpath "$TAR")

# ---- fixed identifiers (change per product, keep constant per build) ----
DISK_GUID=5E8F1D2C-3B4A-4C5D-8E6F-7A8B9C0D1E2F
BIOS_PARTUUID=11111111-AAAA-4BBB-8CCC-000000000001
ESP_PARTUUID=11111111-AAAA-4BBB-8CCC-000000000002
ROOT_PARTUUID=11111111-AAAA-4BBB-8CCC-000000000003
ROOT_UUID=8d0e4c5a-1b2c-4d3e-9f40-0123456789ab
ESP_SERIAL=2A3B4C5D
# ---- layout (512-byte sectors) ----
BIOS_START=2048;  BIOS_SIZE=2048        # 1 MiB BIOS boot partition
ESP_START=4096;   ESP_SIZE=131072       # 64 MiB ESP
ROOT_START=135168; ROOT_SIZE=3145728    # 1.5 GiB root
DISK_MIB=1603                           # leaves >=33 sectors for the backup GPT

W=$(mktemp -d /tmp/research/work.XXXXXX)
trap 'rm -rf "$W"' EXIT
t0=$(date +%s.%N); step() { local n; n=$(date +%s.%N); printf '[%6.2fs] %s\n' "$(echo "$n - $t0" | bc)" "$*"; t0=$n; }

# 1. unpack rootfs tarball (mke2fs 1.47.0 cannot read tar directly)
mkdir "$W/root"
tar -C "$W/root" --numeric-owner --xattrs --xattrs-include='*' -xpf "$TAR"
step "unpack tarball"

# 2. image-specific configuration
cat > "$W/root/etc/fstab" <<EOF
UUID=$ROOT_UUID / ext4 errors=remount-ro 0 1
EOF
mkdir -p "$W/root/boot/grub"
cat > "$W/root/boot/grub/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=1
menuentry 'Debian GNU/Linux 12 (bookworm)' {
  search --no-floppy --fs-uuid --set=root $ROOT_UUID
  linux /vmlinuz root=UUID=$ROOT_UUID ro console=tty0 console=ttyS0,115200n8
  initrd /initrd.img
}
EOF
# normalise the tree: clamp mtimes; atime/ctime are fixed inside the image below
find "$W/root" -newermt "@$SDE" -print0 | xargs -0r touch -h -d "@$SDE"
step "configure + clamp mtimes"

# 3. root ext4 (pinned mke2fs.conf so host defaults cannot leak in)
cat > "$W/mke2fs.conf" <<'EOF'
[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384
[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
EOF
truncate -s $((ROOT_SIZE*512)) "$W/root.img"
MKE2FS_CONFIG="$W/mke2fs.conf" mke2fs -q -F -t ext4 -L root -U "$ROOT_UUID" \
  -E hash_seed="$ROOT_UUID",root_owner=0:0,lazy_itable_init=0 -d "$W/root" "$W/root.img"
step "mke2fs -d"
# mke2fs copies st_atime/st_ctime of the source files (ctime = unpack time!):
# rewrite atime+ctime of every in-use inode to SOURCE_DATE_EPOCH with debugfs.
dumpe2fs "$W/root.img" 2>/dev/null | awk -v t="$SDE" '
  /^Inodes per group:/ {ipg=$4}
  /^Group [0-9]+:/ {g=$2+0}
  /^  Free inodes: / {
    delete fr; s=$0; sub(/^  Free inodes: */,"",s); n=split(s,a,/, */)
    for (i=1;i<=n;i++) if (a[i]!="") { m=split(a[i],r,"-"); if (m==1) r[2]=r[1]; for (j=r[1];j<=r[2];j++) fr[j]=1 }
    for (ino=g*ipg+1; ino<=(g+1)*ipg; ino++) if (!(ino in fr))
      printf "sif <%d> atime @%s\nsif <%d> ctime @%s\n", ino, t, ino, t }' > "$W/fix.cmds"
debugfs -w -f "$W/fix.cmds" "$W/root.img" >/dev/null 2>"$W/debugfs.err" || { cat "$W/debugfs.err"; exit 1; }
grep -v '^debugfs ' "$W/debugfs.err" >&2 || true
e2fsck -fn "$W/root.img" >/dev/null
step "debugfs atime/ctime fix ($(($(wc -l < "$W/fix.cmds")/2)) inodes) + fsck"

# 4. GRUB images (embedded early config: find root by fs UUID, prefix there)
cat > "$W/early.cfg" <<EOF
search --no-floppy --fs-uuid --set=root $ROOT_UUID
set prefix=(\$root)/boot/grub
EOF
MODS="normal configfile linux search search_fs_uuid part_gpt ext2 fat echo test serial terminal ls cat boot sleep"
grub-mkimage -O x86_64-efi -p /boot/grub -c "$W/early.cfg" -o "$W/BOOTX64.EFI" $MODS efi_gop
grub-mkimage -O i386-pc    -p /boot/grub -c "$W/early.cfg" -o "$W/core.img" $MODS biosdisk
[ $(stat -c %s "$W/core.img") -le $((BIOS_SIZE*512)) ]
step "grub-mkimage efi+pc"

# 5. ESP (FAT32) with mtools; SOURCE_DATE_EPOCH + TZ=UTC make timestamps fixed
truncate -s $((ESP_SIZE*512)) "$W/esp.img"
mformat -i "$W/esp.img" -F -N "$ESP_SERIAL" -v ESP ::
mmd -i "$W/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$W/esp.img" "$W/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
step "ESP via mtools"

# 6. assemble the disk
rm -f "$OUT"; truncate -s ${DISK_MIB}M "$OUT"
sfdisk -q --no-reread --no-tell-kernel "$OUT" <<EOF
label: gpt
label-id: $DISK_GUID
unit: sectors
first-lba: 2048
start=$BIOS_START, size=$BIOS_SIZE, type=21686148-6449-6E6F-744E-656564454649, uuid=$BIOS_PARTUUID, name="bios"
start=$ESP_START, size=$ESP_SIZE, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$ESP_PARTUUID, name="esp"
start=$ROOT_START, size=$ROOT_SIZE, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$ROOT_PARTUUID, name="root"
EOF
dd if="$W/esp.img"  of="$OUT" bs=512 seek=$ESP_START  conv=notrunc,sparse status=none
dd if="$W/root.img" of="$OUT" bs=1M  seek=$((ROOT_START/2048)) conv=notrunc,sparse status=none
step "sfdisk + dd partitions"

# 7. BIOS: do by hand what grub-bios-setup does for a BIOS-boot-partition install
le64() { printf '%016x' "$1" | sed 's/\(..\)/\1 /g' | awk '{for(i=8;i>=1;i--) printf "\\x%s",$i}'; }
# diskboot.img (1st sector of core.img): blocklist start (u64 @0x1f4) -> LBA of core sector 2
printf "$(le64 $((BIOS_START+1)))" | dd of="$W/core.img" bs=1 seek=$((0x1f4)) conv=notrunc status=none
dd if="$OUT" of="$W/mbr" bs=512 count=1 status=none             # protective MBR from sfdisk
cp /usr/lib/grub/i386-pc/boot.img "$W/boot.img"
dd if="$W/mbr" of="$W/boot.img" bs=1 skip=3 seek=3 count=87 conv=notrunc status=none     # BPB area (0x03-0x59)
dd if="$W/mbr" of="$W/boot.img" bs=1 skip=440 seek=440 count=70 conv=notrunc status=none # sig + partition table
printf "$(le64 $BIOS_START)" | dd of="$W/boot.img" bs=1 seek=$((0x5c)) conv=notrunc status=none # kernel_sector
printf '\x90\x90' | dd of="$W/boot.img" bs=1 seek=$((0x66)) conv=notrunc status=none    # nop boot-drive check
dd if="$W/core.img" of="$OUT" bs=512 seek=$BIOS_START conv=notrunc status=none
dd if="$W/boot.img" of="$OUT" bs=512 count=1 conv=notrunc status=none
sfdisk --verify "$OUT" >/dev/null
step "boot.img + core.img patched in"

sha256sum "$OUT"
du -h --apparent-size "$OUT"; du -h "$OUT"
