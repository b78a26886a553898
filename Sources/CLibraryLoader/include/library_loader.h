// Loads the C libraries imagec uses to deploy (Ceph's librados and librbd, libvirt,
// libguestfs, libarchive, libical) when a command first needs them, not at every start: their initialisers cost
// about 20 ms, which every `imagec show` paid. Each returns NULL once its library is loaded,
// or dlerror()'s message. Safe to call from any thread, any number of times.
const char *imagec_load_ceph(void);
const char *imagec_load_libvirt(void);
const char *imagec_load_guestfs(void);
const char *imagec_load_archive(void);
const char *imagec_load_ical(void);
