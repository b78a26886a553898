internal import Foundation
public import ImageDSL

/// Hands the systems a definition file declares back to imagec.
///
/// imagec compiles a definition with a few lines appended that call ``emit(_:_:_:file:)`` with
/// the file's `system`, `systems` and `bookable` values. Whichever the file does not declare
/// is one of the placeholders below, so the call compiles either way. The result is written
/// to the file named by `IMAGEC_RESULT_PATH`, never to standard output, so what the
/// definition prints cannot corrupt it. With `IMAGEC_BOOKINGS_PATH` (a ``BookingInput``), a
/// bookable machine also says what it makes of the calendar's events.
public func emit(_ system: some SystemDeclaration, _ systems: some SystemDeclaration, _ bookable: some BookableDeclaration, file: String) {
    let declared = (system.declaredSystems ?? []) + (systems.declaredSystems ?? [])
    var result = EvaluationResult(resolving: declared)
    if let bookable = bookable.declaredBookable {
        result.bookable = bookable.model
        result.diagnostics += bookable.problems
        result.variants = bookable.variants.compactMap { booking in
            let (model, problems) = bookable.system(for: booking).resolve()
            for problem in problems where !result.diagnostics.contains(problem) { result.diagnostics.append(problem) }
            return model
        }
        if let path = ProcessInfo.processInfo.environment["IMAGEC_BOOKINGS_PATH"] {
            do {
                let input = try JSONDecoder().decode(BookingInput.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
                result.bookings = input.events.map { book($0, on: input.night, with: bookable) }
            } catch {
                FileHandle.standardError.write(Data("cannot read the bookings imagec handed over: \(error)\n".utf8))
                exit(70)
            }
        }
    }
    if system.declaredSystems == nil && systems.declaredSystems == nil {
        result.diagnostics.append(Diagnostic(
            "the file declares no system: add `let system = OperatingSystem { … }` "
                + "(or `let systems = [ … ]` for several)",
            at: SourceLocation(file: file, line: 1)))
    } else if declared.isEmpty {
        result.diagnostics.append(Diagnostic("`systems` is empty", at: SourceLocation(file: file, line: 1)))
    }
    // imagec uses no system of a file with errors; one may hold what JSON cannot (a NaN
    // timeout, reported at its line).
    if result.hasErrors {
        result.systems = []
        result.variants = result.variants.map { _ in [] }
        result.bookings = result.bookings?.map { outcome in
            var outcome = outcome
            outcome.system = nil
            return outcome
        }
    }
    guard let path = ProcessInfo.processInfo.environment["IMAGEC_RESULT_PATH"] else {
        FileHandle.standardError.write(Data("IMAGEC_RESULT_PATH is not set: run this through imagec\n".utf8))
        exit(70)
    }
    do {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(result).write(to: URL(fileURLWithPath: path))
    } catch {
        FileHandle.standardError.write(Data("cannot write the evaluation result: \(error)\n".utf8))
        exit(70)
    }
}

/// What `bookable` makes of `event`: for a booking of its machine that covers `night`, the
/// booked system, or the refusal of a booking whose system has errors.
func book(_ event: CalendarEvent, on night: CalendarDay, with bookable: Bookable) -> BookingOutcome {
    var outcome = bookable.read(event)
    guard let booking = outcome.booking, booking.firstDay <= night, night <= booking.lastDay else { return outcome }
    let (model, problems) = bookable.system(for: booking).resolve()
    outcome.diagnostics = problems
    if let error = problems.first(where: { $0.severity == .error }) {
        outcome.refusal = "the booked system has an error: \(error)"
    } else {
        outcome.system = model
    }
    return outcome
}

/// Makes standard output line-buffered, so what a definition prints before it crashes is kept.
public func prepareOutput() {
    setvbuf(stdout, nil, _IOLBF, 0)
}

/// A value that declares systems: an `OperatingSystem`, an array of them, or a placeholder.
public protocol SystemDeclaration {
    /// The systems declared, or `nil` for a placeholder.
    var declaredSystems: [OperatingSystem]? { get }
}

extension OperatingSystem: SystemDeclaration {
    public var declaredSystems: [OperatingSystem]? { [self] }
}

extension Array: SystemDeclaration where Element == OperatingSystem {
    public var declaredSystems: [OperatingSystem]? { self }
}

/// Stands for `system` when a definition file declares only `systems`.
public struct NoSystemDeclared: SystemDeclaration, Sendable {
    public var declaredSystems: [OperatingSystem]? { nil }
}

/// A value that may declare a bookable machine: a ``Bookable`` or the placeholder.
public protocol BookableDeclaration {
    var declaredBookable: Bookable? { get }
}

extension Bookable: BookableDeclaration {
    public var declaredBookable: Bookable? { self }
}

/// Stands for `bookable` when a definition declares no bookable machine.
public struct NoBookableDeclared: BookableDeclaration, Sendable {
    public var declaredBookable: Bookable? { nil }
}

/// Placeholder shadowed by a definition's own `let bookable`.
public let bookable = NoBookableDeclared()
/// Placeholder shadowed by a definition's own `let system`.
public let system = NoSystemDeclared()
/// Placeholder shadowed by a definition's own `let systems`.
public let systems = NoSystemDeclared()
