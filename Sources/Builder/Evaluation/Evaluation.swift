import Foundation
import ImagecCore
import ImageDSL

/// The systems a definition file declares, each with its canonical JSON and digest.
public struct Evaluation: Sendable {
    /// One evaluated system.
    public struct System: Sendable {
        public var model: SystemModel
        /// The canonical JSON of the model (see ``CanonicalJSON``).
        public var canonicalJSON: Data
        /// The SHA-256 of the canonical JSON.
        public var digest: ModelDigest

        public init(model: SystemModel) throws {
            let json = try CanonicalJSON.encode(model)
            self.init(model: model, canonicalJSON: json, digest: ModelDigest(hex: CanonicalJSON.sha256(json)))
        }

        init(model: SystemModel, canonicalJSON: Data, digest: ModelDigest) {
            self.model = model
            self.canonicalJSON = canonicalJSON
            self.digest = digest
        }
    }

    public var file: URL
    public var systems: [System]
    /// Warnings (errors make evaluation throw).
    public var diagnostics: [Diagnostic]
    /// What the definition printed while it ran.
    public var output: String
    public var cacheHit: Bool
    /// The file's bookable machine, if it declares one.
    public var bookable: BookableModel?
    /// The bookable machine with each combination of its options: locked beside the systems.
    public var variants: [SystemModel]
    /// What the bookable machine made of the events handed to it (`evaluate(_:bookings:)`).
    public var bookings: [BookingOutcome]?

    /// - Parameter canonical: the canonical JSON of each system, when already known (cached).
    /// - Throws: ``DefinitionError`` when the result has errors.
    init(file: URL, result: EvaluationResult, output: String, canonical: [String]? = nil, cacheHit: Bool) throws {
        if result.hasErrors { throw DefinitionError(.invalid, result.diagnostics, output: output) }
        self.file = file
        self.output = output
        self.cacheHit = cacheHit
        self.diagnostics = result.diagnostics
        self.bookable = result.bookable
        self.variants = result.variants ?? []
        self.bookings = result.bookings
        let known = canonical?.count == result.systems.count ? canonical : nil
        self.systems = try result.systems.enumerated().map { index, model in
            let json = try known.map { Data($0[index].utf8) } ?? CanonicalJSON.encode(model)
            return System(model: model, canonicalJSON: json, digest: ModelDigest(hex: CanonicalJSON.sha256(json)))
        }
    }

    /// The system with the given host name.
    public func system(named name: String) -> System? { systems.first { $0.model.hostName == name } }
}
