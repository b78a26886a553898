// librados and librbd, Ceph's C client libraries (Debian: librados-dev, librbd-dev).
#include <rados/librados.h>
#include <rbd/librbd.h>
