import DefinitionEvaluation
import Foundation
import ImageDSL
import ImagecCore
import Targets

/// A booked system to build, test and deploy: the booking's system and the evaluated
/// definition of its machine.
public struct BookedHost: Sendable {
    public var definition: String
    public var evaluation: Evaluation
    public var model: SystemModel

    public init(definition: String, evaluation: Evaluation, model: SystemModel) {
        self.definition = definition
        self.evaluation = evaluation
        self.model = model
    }
}

/// What the nightly job does to machines, as `imagec build`, `imagec test` and `imagec deploy`
/// do it (``FleetMachines``); tests inject fakes to drive the night's state machine.
public protocol BookedMachines: Sendable {
    /// Builds the booked system (the store's image when it was built before): its digest.
    func build(_ host: BookedHost, progress: ProgressReporter) throws -> String
    /// Boots the image and runs its checks, unless it passed before; throws when it fails.
    func test(_ host: BookedHost, progress: ProgressReporter) throws
    /// Deploys each image with the fleet's checks and automatic rollback, finishing a swap of
    /// the same image that an interrupted run left, and taking an image the machine already
    /// runs as deployed.
    func deploy(_ hosts: [BookedHost], progress: ProgressReporter) async -> [HostDeployer.Outcome]
    /// How the booking's user reaches the machine (`user` is their account name).
    func connection(_ host: BookedHost, user: String) throws -> BookingMails.Connection
}
