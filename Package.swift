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
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        .target(name: "ImageDSL", exclude: ["README.md"]),
        // Swift 5 mode: it sets the C library's `stdout` buffering, a global Swift 6 rejects.
        .target(
            name: "EvaluationRuntime", dependencies: ["ImageDSL"], exclude: ["README.md"],
            swiftSettings: [.swiftLanguageMode(.v5)]),
        // Builder: from a definition to a tested image, one target per stage (Sources/Builder).
        .target(
            name: "ImagecCore", dependencies: ["ImageDSL", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Builder/Core", exclude: ["README.md"]),
        .target(name: "DefinitionEvaluation", dependencies: ["ImagecCore", "ImageDSL"], path: "Sources/Builder/Evaluation", exclude: ["README.md"]),
        .target(name: "Packages", dependencies: ["ImagecCore", "DefinitionEvaluation", "ImageDSL"], path: "Sources/Builder/Packages", exclude: ["README.md"]),
        .target(
            name: "SharedStore",
            dependencies: ["ImagecCore", "Packages", "CLibraryLoader", "CArchive", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Builder/SharedStore", exclude: ["README.md"]),
        .target(
            name: "ImageBuild", dependencies: ["ImagecCore", "DefinitionEvaluation", "Packages", "SharedStore", "SBOM", "CLibraryLoader", "CArchive", "ImageDSL"],
            path: "Sources/Builder/ImageBuild", exclude: ["README.md"]),
        .target(name: "SBOM", dependencies: ["ImagecCore", "Packages", "ImageDSL"], path: "Sources/Builder/SBOM", exclude: ["README.md"]),
        .target(name: "Checks", dependencies: ["ImagecCore", "ImageDSL"], path: "Sources/Builder/Checks", exclude: ["README.md"]),
        .target(
            name: "BootTest", dependencies: ["ImagecCore", "ImageBuild", "Checks", "ImageDSL"],
            path: "Sources/Builder/BootTest", exclude: ["README.md"]),
        .target(
            name: "DefinitionReview", dependencies: ["ImagecCore", "DefinitionEvaluation", "Packages", "ImageBuild", "ImageDSL"],
            path: "Sources/Builder/Review", exclude: ["README.md"]),
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
        // libical, to read the bookings calendar.
        .systemLibrary(name: "CICal", providers: [.apt(["libical-dev"])]),
        // Deployer: from an image to a running machine (Sources/Deployer).
        .target(
            name: "Pools", dependencies: ["ImagecCore", "SharedStore", "CLibraryLoader", "CRBD"],
            path: "Sources/Deployer/Pools", exclude: ["README.md"]),
        .target(
            name: "Identity", dependencies: ["ImagecCore", "Pools", "CLibraryLoader", "CGuestfs", "ImageDSL", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Deployer/Identity", exclude: ["README.md"]),
        .target(
            name: "Hypervisors", dependencies: ["ImagecCore", "CLibraryLoader", "CLibvirt", "ImageDSL"],
            path: "Sources/Deployer/Hypervisors", exclude: ["README.md"]),
        .target(name: "BMC", dependencies: ["ImagecCore", "ImageDSL"], path: "Sources/Deployer/BMC", exclude: ["README.md"]),
        .target(
            name: "BootServer",
            dependencies: ["ImagecCore", "ImageDSL", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")],
            path: "Sources/Deployer/BootServer", exclude: ["README.md"]),
        .target(
            name: "SwapLedger", dependencies: ["ImagecCore", "ImageDSL", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Sources/Deployer/Ledger", exclude: ["README.md"]),
        .target(
            name: "Targets", dependencies: ["ImagecCore", "Checks", "Pools", "Identity", "Hypervisors", "BMC", "BootServer", "SwapLedger", "ImageDSL"],
            path: "Sources/Deployer/Targets", exclude: ["README.md"]),
        .target(
            name: "Calendars", dependencies: ["ImagecCore", "CLibraryLoader", "CICal", "ImageDSL"],
            path: "Sources/Deployer/Calendars", exclude: ["README.md"]),
        .target(
            name: "Audit", dependencies: ["ImagecCore", "Packages", "ImageDSL"],
            path: "Sources/Deployer/Audit", exclude: ["README.md"]),
        .target(name: "Mail", dependencies: ["ImagecCore"], path: "Sources/Deployer/Mail", exclude: ["README.md"]),
        .target(
            name: "Fleet",
            dependencies: ["ImagecCore", "DefinitionEvaluation", "Packages", "ImageBuild", "BootTest", "DefinitionReview", "Pools", "BootServer", "SwapLedger", "Targets", "ImageDSL"],
            path: "Sources/Deployer/Fleet", exclude: ["README.md"]),
        .target(
            name: "Bookings",
            dependencies: ["ImagecCore", "DefinitionEvaluation", "ImageBuild", "BootTest", "SharedStore", "Pools", "Identity", "SwapLedger",
                           "Targets", "Fleet", "Calendars", "Mail", "ImageDSL", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Sources/Deployer/Bookings", exclude: ["README.md"]),
        .executableTarget(
            name: "imagec",
            dependencies: [
                "ImagecCore", "DefinitionEvaluation", "Packages", "SharedStore", "SBOM", "ImageBuild", "Checks", "BootTest", "DefinitionReview",
                "Pools", "Identity", "Hypervisors", "BootServer", "SwapLedger", "Targets", "Fleet", "Calendars", "Mail", "Bookings", "Audit", "ImageDSL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["README.md"]),
        .testTarget(name: "ImageDSLTests", dependencies: ["ImageDSL"]),
        .testTarget(
            name: "BuilderTests",
            dependencies: ["ImagecCore", "DefinitionEvaluation", "Packages", "SharedStore", "ImageBuild", "Checks", "BootTest", "DefinitionReview", "ImageDSL"],
            exclude: ["Golden", "Invalid"]),
        .testTarget(
            name: "DeployerTests",
            dependencies: [
                "ImagecCore", "DefinitionEvaluation", "Packages", "SharedStore", "ImageBuild", "Checks", "BootTest", "DefinitionReview",
                "Pools", "Identity", "Hypervisors", "BMC", "BootServer", "SwapLedger", "Targets", "Fleet", "Calendars", "Mail", "Bookings", "Audit", "ImageDSL",
            ],
            exclude: ["Proxmox"]),
    ]
)
