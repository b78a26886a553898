// Every function of those libraries that imagec calls is defined here as a two-instruction
// trampoline that jumps through a slot; loading a library fills its slots from dlsym. The
// library headers are not included: the trampolines need the names, not the prototypes,
// and the Swift code sees the real prototypes through CRBD, CLibvirt, CGuestfs and CArchive.
// A function missing here fails the link with "undefined reference", never silently.
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "library_loader.h"

#define CEPH(X) \
    X(rados_conf_read_file) X(rados_conf_set) X(rados_connect) X(rados_create2) \
    X(rados_ioctx_create) X(rados_ioctx_destroy) X(rados_ioctx_set_namespace) X(rados_read) X(rados_remove) \
    X(rados_shutdown) X(rados_stat) X(rados_write_full) \
    X(rbd_aio_create_completion) X(rbd_aio_get_return_value) X(rbd_aio_release) \
    X(rbd_aio_wait_for_complete) X(rbd_aio_write) X(rbd_aio_write_zeroes) X(rbd_clone3) \
    X(rbd_close) X(rbd_create4) X(rbd_diff_iterate2) X(rbd_flush) X(rbd_get_parent_info) \
    X(rbd_image_options_create) X(rbd_image_options_destroy) X(rbd_image_spec_list_cleanup) \
    X(rbd_list2) X(rbd_lock_break) X(rbd_lock_get_owners) X(rbd_lock_get_owners_cleanup) \
    X(rbd_metadata_list) X(rbd_metadata_set) X(rbd_open) X(rbd_open_read_only) X(rbd_read) \
    X(rbd_remove) X(rbd_rename) X(rbd_resize) X(rbd_snap_create) X(rbd_snap_is_protected) \
    X(rbd_snap_protect) X(rbd_snap_remove) X(rbd_snap_unprotect) X(rbd_stat)

#define LIBVIRT(X) \
    X(virConnectClose) X(virConnectOpen) X(virDomainAgentSetResponseTimeout) X(virDomainCreate) \
    X(virDomainDestroy) X(virDomainFSFreeze) X(virDomainFSThaw) X(virDomainFree) \
    X(virDomainGetState) X(virDomainGetXMLDesc) X(virDomainLookupByName) \
    X(virDomainShutdownFlags) X(virGetLastErrorMessage) X(virSetErrorFunc)

#define GUESTFS(X) \
    X(guestfs_add_drive_opts_argv) X(guestfs_chmod) X(guestfs_chown) X(guestfs_close) \
    X(guestfs_create) X(guestfs_findfs_label) X(guestfs_inspect_os) X(guestfs_is_dir) \
    X(guestfs_last_error) X(guestfs_launch) X(guestfs_mkdir_p) X(guestfs_mount) \
    X(guestfs_set_backend_settings) X(guestfs_set_error_handler) X(guestfs_shutdown) \
    X(guestfs_umount_all) X(guestfs_write)

#define ARCHIVE(X) \
    X(archive_entry_copy_stat) X(archive_entry_free) X(archive_entry_hardlink) X(archive_entry_new) \
    X(archive_entry_pathname) X(archive_entry_set_hardlink) X(archive_entry_set_pathname) \
    X(archive_entry_set_size) X(archive_entry_set_symlink) X(archive_entry_unset_atime) \
    X(archive_entry_unset_birthtime) X(archive_entry_unset_ctime) X(archive_entry_xattr_add_entry) \
    X(archive_error_string) X(archive_read_close) X(archive_read_extract2) X(archive_read_free) \
    X(archive_read_new) X(archive_read_next_header) X(archive_read_open_filename) \
    X(archive_read_support_format_tar) X(archive_write_close) X(archive_write_data) \
    X(archive_write_disk_new) X(archive_write_disk_set_options) X(archive_write_free) \
    X(archive_write_header) X(archive_write_new) X(archive_write_open_filename) \
    X(archive_write_set_format_pax_restricted) X(archive_write_set_format_cpio_newc) \
    X(archive_write_add_filter_zstd) X(archive_entry_set_mtime) X(archive_entry_set_ino64) \
    X(archive_entry_set_dev) X(archive_entry_set_nlink)

#define ICAL(X) \
    X(icalcomponent_foreach_recurrence) X(icalcomponent_free) X(icalcomponent_get_description) \
    X(icalcomponent_get_dtend) X(icalcomponent_get_dtstart) X(icalcomponent_get_first_component) \
    X(icalcomponent_get_first_property) X(icalcomponent_get_location) X(icalcomponent_get_next_component) \
    X(icalcomponent_get_next_property) X(icalcomponent_get_recurrenceid) X(icalcomponent_get_status) \
    X(icalcomponent_get_summary) X(icalcomponent_get_uid) X(icalcomponent_isa) X(icalparser_parse_string) \
    X(icalproperty_get_xlicerror) X(icaltime_as_timet_with_zone) X(icaltime_from_timet_with_zone) \
    X(icaltime_is_null_time) X(icaltimezone_get_builtin_timezone) X(icaltimezone_get_utc_timezone) \

// A slot's value before its library is loaded: a call through it is a bug in imagec.
static void unloaded(void) {
    fputs("imagec: internal error: a C library was called before it was loaded\n", stderr);
    abort();
}

#define TRAMPOLINE(name) \
    static void *slot_##name __asm__("imagec_slot_" #name) __attribute__((used)) = (void *)unloaded; \
    __attribute__((naked)) void name(void) { __asm__ volatile("jmp *imagec_slot_" #name "(%rip)"); }
CEPH(TRAMPOLINE)
LIBVIRT(TRAMPOLINE)
GUESTFS(TRAMPOLINE)
ARCHIVE(TRAMPOLINE)
ICAL(TRAMPOLINE)

struct slot { const char *name; void **address; };
#define SLOT(name) { #name, &slot_##name },

// Opens `libraries` (one or two, NULL-terminated) in order and fills `slots` from the first
// that defines each name.
static const char *load(const char *const *libraries, struct slot *slots, size_t count) {
    void *handles[2] = { NULL, NULL };
    for (size_t i = 0; libraries[i]; i++) {
        if (!(handles[i] = dlopen(libraries[i], RTLD_NOW | RTLD_LOCAL))) return strdup(dlerror());
    }
    for (size_t i = 0; i < count; i++) {
        void *function = NULL;
        for (size_t j = 0; libraries[j] && !function; j++) function = dlsym(handles[j], slots[i].name);
        if (!function) return strdup(dlerror());
        *slots[i].address = function;
    }
    return NULL;
}

#define LOADER(function, table, ...) \
    static const char *function##_error; \
    static void function##_once(void) { \
        static const char *const libraries[] = { __VA_ARGS__, NULL }; \
        static struct slot slots[] = { table(SLOT) }; \
        function##_error = load(libraries, slots, sizeof slots / sizeof slots[0]); \
    } \
    const char *function(void) { \
        static pthread_once_t once = PTHREAD_ONCE_INIT; \
        pthread_once(&once, function##_once); \
        return function##_error; \
    }
LOADER(imagec_load_ceph, CEPH, "librados.so.2", "librbd.so.1")
LOADER(imagec_load_libvirt, LIBVIRT, "libvirt.so.0")
LOADER(imagec_load_guestfs, GUESTFS, "libguestfs.so.0")
LOADER(imagec_load_archive, ARCHIVE, "libarchive.so.13")
LOADER(imagec_load_ical, ICAL, "libical.so.3")
