// libguestfs, the library that edits disk images through a small appliance VM (Debian:
// libguestfs-dev). Its option structs use bit masks defined as macros Swift cannot import,
// so adding a drive goes through this one helper.
#include <guestfs.h>

/// Adds a drive read-write: a file (`protocol` NULL) or a network disk such as `rbd`.
static inline int imagec_guestfs_add_drive(guestfs_h *g, const char *filename, const char *format,
                                           const char *protocol, const char *username) {
    struct guestfs_add_drive_opts_argv options = { 0 };
    options.bitmask = GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK;
    options.format = format;
    if (protocol) {
        options.bitmask |= GUESTFS_ADD_DRIVE_OPTS_PROTOCOL_BITMASK;
        options.protocol = protocol;
    }
    if (username) {
        options.bitmask |= GUESTFS_ADD_DRIVE_OPTS_USERNAME_BITMASK;
        options.username = username;
    }
    return guestfs_add_drive_opts_argv(g, filename, &options);
}
