// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "imagec",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "imagec", targets: ["imagec"]),
        // Definitions in systems/ and templates/ are compiled against this library
        // (ImageDSL plus the small runtime that hands the value back to imagec).
        .library(name: "ImageDSL", type: .dynamic, targets: ["ImageDSL", "EvaluationRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .target(name: "ImageDSL", exclude: ["README.md"]),
        // Swift 5 mode: it sets the C library's `stdout` buffering, a global Swift 6 rejects.
        .target(
            name: "EvaluationRuntime", dependencies: ["ImageDSL"], exclude: ["README.md"],
            swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(
            name: "Builder",
            dependencies: ["ImageDSL", "CLibraryLoader", "CArchive", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["README.md"]),
        // Loads the C libraries below when a command first needs them.
        .target(name: "CLibraryLoader", exclude: ["README.md"]),
        // libarchive, for the package layers' trees in the shared store.
        .systemLibrary(name: "CArchive", providers: [.apt(["libarchive-dev"])]),
        // Ceph's C client libraries, for the RBD pool.
        .systemLibrary(name: "CRBD", providers: [.apt(["librbd-dev", "librados-dev"])]),
        // libguestfs, to write each host's identity into its clone.
        .systemLibrary(name: "CGuestfs", providers: [.apt(["libguestfs-dev"])]),
        // libvirt, for the libvirt hypervisor driver.
        .systemLibrary(name: "CLibvirt", providers: [.apt(["libvirt-dev"])]),
        .target(
            name: "Deployer",
            dependencies: ["ImageDSL", "Builder", "CLibraryLoader", "CRBD", "CGuestfs", "CLibvirt", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["README.md"]),
        .executableTarget(
            name: "imagec",
            dependencies: ["Builder", "Deployer", "ImageDSL", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            exclude: ["README.md"]),
        .testTarget(name: "ImageDSLTests", dependencies: ["ImageDSL"]),
        .testTarget(
            name: "BuilderTests", dependencies: ["Builder", "ImageDSL"],
            exclude: ["Golden", "Invalid"]),
        .testTarget(name: "DeployerTests", dependencies: ["Deployer", "Builder", "ImageDSL"], exclude: ["Proxmox"]),
    ]
)
