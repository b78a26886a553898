// libarchive (Debian: libarchive-dev), for the package layers' trees in the shared store.
#include <archive.h>
#include <archive_entry.h>
// The extended attributes archived with each file (Glibc's Swift module lacks them).
#include <sys/xattr.h>
