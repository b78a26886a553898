import ImageDSL

/// The packages a system asks for (``SystemModel/requestedPackages``): what it declares and its
/// services need, plus what every image needs to boot and be managed. The archive's Essential
/// and Priority-required packages come on top when resolving.
enum PackageSelection {
    static func requested(by model: SystemModel) -> [String] {
        model.requestedPackages
    }
}
