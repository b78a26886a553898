import Foundation
import ImagecCore
import ImageDSL

/// Splits a lock set along the system's inheritance chain: a bottom layer of what every system
/// installs (``SystemModel/basePackages``, with Essential), a layer for each template that asks
/// for packages, holding what its request installs on top of the layer below, then the system's
/// own. Systems that share templates share their layers (and their store entries).
///
/// A layer is always a subset of the set, in the set's versions: the packages a stage's request
/// needs, followed through `Depends:` and `Pre-Depends:` inside the set only. So a layer never
/// holds a version the system does not install, and a package that an upper stage forces to
/// another version makes that lower layer another one, built afresh, never patched.
enum PackageLayering {
    /// The stages that get a layer, bottom to top: a template's stage is kept only when every
    /// stage above it still asks for everything it asks for (a template that removes a package,
    /// as `oneDiskVM` removes Chrony, makes the stages below it merge into its own).
    static func stages(of model: SystemModel) -> [PackageStage] {
        let base = PackageStage(location: SourceLocation(file: "", line: 0), requested: model.basePackages)
        let all = [base] + (model.packageStages ?? [PackageStage(
            location: model.location(of: "system") ?? SourceLocation(file: "system", line: 0), requested: model.requestedPackages)])
        return all.enumerated().filter { index, stage in
            all[(index + 1)...].allSatisfy { Set($0.requested).isSuperset(of: stage.requested) }
        }.map(\.element)
    }

    /// The layers of `packages` (a whole set as apt resolved it) for `stages`, bottom to top;
    /// `essential` joins the bottom layer. A stage that adds nothing has an empty layer, which
    /// builds take as the one below it. Each layer is dated `sourceDateEpoch`, unless a layer
    /// of a `known` set (of another lock, or the previous one) is the same layer (the same
    /// packages, on the same layers below): then it keeps that layer's date, and so its store entry.
    static func layers(
        of packages: [LockedPackage], stages: [PackageStage], essential: Set<String>, relations: [String: PackageRelations],
        sourceDateEpoch: Int, known: [PackageLock.PackageSet] = []
    ) -> [PackageLock.Layer] {
        let byName = Dictionary(packages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var providers: [String: String] = [:]
        for package in packages.sorted(by: { $0.name < $1.name }) {
            for name in relations[package.sha256]?.provides ?? [] where providers[name] == nil { providers[name] = package.name }
        }
        /// The package of the set that meets a dependency: the first alternative installed, by
        /// name, else by what it provides.
        func meeting(_ alternatives: [String]) -> String? {
            alternatives.first { byName[$0] != nil } ?? alternatives.lazy.compactMap { providers[$0] }.first
        }
        func closure(_ roots: [String]) -> Set<String> {
            var found = Set<String>(), queue = roots.compactMap { meeting([$0]) }
            while let name = queue.popLast() {
                guard found.insert(name).inserted, let package = byName[name] else { continue }
                for dependency in relations[package.sha256]?.dependencyNames ?? [] {
                    if let met = meeting(dependency), !found.contains(met) { queue.append(met) }
                }
            }
            return found
        }

        var layers: [PackageLock.Layer] = []
        var below = Set<String>()
        let bottom = essential.filter { byName[$0] != nil }.sorted()
        for (index, stage) in stages.enumerated() {
            let isTop = index == stages.count - 1
            // The top layer takes whatever else apt chose: the layers always add up to the set.
            let names = isTop ? Set(byName.keys) : closure(bottom + stage.requested)
            let added = names.subtracting(below).sorted()
            var layer = PackageLock.Layer(
                stage: label(stage.location), requested: stage.requested, packages: added, sourceDateEpoch: sourceDateEpoch)
            let identity = Self.identity(of: layers + [layer], packages: byName)
            search: for set in known {
                let theirs = Dictionary(set.packages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                for (index, candidate) in set.effectiveLayers.enumerated()
                where Self.identity(of: Array(set.effectiveLayers[...index]), packages: theirs) == identity {
                    layer.sourceDateEpoch = candidate.sourceDateEpoch
                    break search
                }
            }
            layers.append(layer)
            below.formUnion(added)
        }
        return layers
    }

    /// `templates/Lab.swift:38`: the file's folder and name, and the line; `imagec base` for the bottom stage.
    static func label(_ location: SourceLocation) -> String {
        location.file.isEmpty ? "imagec base" : "\(location.file.split(separator: "/").suffix(2).joined(separator: "/")):\(location.line)"
    }

    /// What makes a chain of layers the same as another: each layer's packages with versions and
    /// SHA-256, and the dates of all but the last.
    private static func identity(of chain: [PackageLock.Layer], packages: [String: LockedPackage]) -> String {
        chain.enumerated().map { index, layer in
            (index == chain.count - 1 ? "" : "\(layer.sourceDateEpoch)\n")
                + layer.packages.map { name in packages[name].map { "\($0.name) \($0.version) \($0.sha256)" } ?? name }.joined(separator: "\n")
        }.joined(separator: "\n--\n")
    }
}
