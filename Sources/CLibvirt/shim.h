// libvirt's C API (Debian: libvirt-dev), for the libvirt hypervisor driver.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
