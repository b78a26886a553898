import ImageDSL

// Keeping the host's certificates and the installed packages across reinstalls, as the
// old FAI setup did: the image owns both.
let system = OperatingSystem {
    HostName("web3")
    Disk {
        PersistentVolume("certs", mountPoint: "/etc/ssl/private", size: .mebibytes(64), device: "/dev/vdb")  // error: persistent volume 'certs' cannot be mounted on '/etc/ssl/private': it holds /etc, which the image owns
        PersistentVolume("var", mountPoint: "/var", size: .gibibytes(50), device: "/dev/vdc")  // error: persistent volume 'var' cannot be mounted on '/var': it holds /var/lib/dpkg, which the image owns
        PersistentVolume("usr", mountPoint: "/usr", size: .gibibytes(20), device: "/dev/vdd")  // error: persistent volume 'usr' cannot be mounted on '/usr': the image owns it
        PersistentVolume("local", mountPoint: "/usr/local", size: .gibibytes(20), device: "/dev/vde")
    }
}
