/// Declares that a machine can be booked, and what a booking makes of it: beside the
/// machine's `system`, in its definition file.
///
/// ```swift
/// let bookable = Bookable(system, directory: Lab.people, parse: Lab.grrBooking,
///                         options: [BookingOption("MBBWorkflow", values: ["Oui", "Non"], default: "Non")],
///                         previousUsersData: .wiped, remindDaysBefore: 2) { booking in
///     booking.user(sudo: .withoutPassword)
///     if booking.option("MBBWorkflow") == "Oui" { Lab.bioco }
/// }
/// ```
///
/// Every night `imagec bookings run` hands each bookable definition the calendar's events:
/// `parse` reads who books which machine from each event (throw ``BookingRefusal`` for an
/// event it cannot read), the user's account comes from `directory`, and a booking starting
/// that night becomes the machine's system with the block applied on top of it.
public struct Bookable: Sendable {
    /// The machine between bookings.
    public var machine: OperatingSystem
    public var directory: Directory
    public var parse: @Sendable (CalendarEvent) throws -> BookingRequest
    public var options: [BookingOption]
    public var previousUsersData: DataPolicy
    /// Days before a booking ends that its user is reminded their data will be wiped (at most
    /// ``maximumReminderDays``).
    public var remindDaysBefore: Int
    /// How far ahead the nightly job reads the calendar for reminders.
    public static let maximumReminderDays = 14
    public var location: SourceLocation
    let booked: @Sendable (Booking) -> [SystemBuilder.Declaration]

    public init(
        _ machine: OperatingSystem, directory: Directory, parse: @escaping @Sendable (CalendarEvent) throws -> BookingRequest,
        options: [BookingOption] = [], previousUsersData: DataPolicy = .kept, remindDaysBefore: Int = 2,
        file: String = #filePath, line: Int = #line,
        @SystemBuilder booked: @escaping @Sendable (Booking) -> [SystemBuilder.Declaration]
    ) {
        self.machine = machine
        self.directory = directory
        self.parse = parse
        self.options = options
        self.previousUsersData = previousUsersData
        self.remindDaysBefore = remindDaysBefore
        self.location = SourceLocation(file: file, line: line)
        self.booked = booked
    }

    /// What imagec keeps of the declaration: everything but the functions.
    public var model: BookableModel {
        BookableModel(machine: machine.hostName ?? "", options: options, previousUsersData: previousUsersData,
                      remindDaysBefore: remindDaysBefore, volumes: machine.disk.persistentVolumes.map(\.mountPoint), location: location)
    }

    /// Problems of the declaration itself, at its line.
    public var problems: [Diagnostic] {
        var problems: [Diagnostic] = []
        func problem(_ message: String) { problems.append(Diagnostic(message, at: location)) }
        if machine.hostName == nil { problem("the bookable machine has no host name") }
        if machine.deployment?.machine == nil {
            problem("a bookable machine needs a Deployment that names its machine: the nightly run reinstalls it")
        }
        if !(0...Self.maximumReminderDays).contains(remindDaysBefore) {
            problem("remindDaysBefore is \(remindDaysBefore): give a number of days from 0 to \(Self.maximumReminderDays)")
        }
        var names: Set<String> = []
        for option in options {
            if !names.insert(option.name).inserted { problem("option '\(option.name)' is declared twice") }
            if option.values.isEmpty { problem("option '\(option.name)' has no values") }
            if !option.values.contains(option.defaultValue) {
                problem("option '\(option.name)' defaults to '\(option.defaultValue)', which is not one of its values (\(option.values.joined(separator: ", ")))")
            }
        }
        if previousUsersData == .snapshotted {
            if machine.deployment?.isBareMetal == true {
                problem("previousUsersData: .snapshotted needs volumes in a pool; a bare-metal machine's volumes are its own disks: declare .kept or .wiped")
            }
            for volume in machine.disk.persistentVolumes where machine.deployment?.volumes[volume.name] == nil && machine.deployment?.isBareMetal != true {
                problem("previousUsersData: .snapshotted: volume '\(volume.name)' is not in the Deployment's volumes, so its pool image is unknown")
            }
        }
        return problems
    }

    /// What `event` asks of this machine: refused with a reason, accepted (a booking of this
    /// machine), or a request for another machine.
    public func read(_ event: CalendarEvent) -> BookingOutcome {
        var outcome = BookingOutcome(event: event)
        let request: BookingRequest
        do {
            request = try parse(event)
        } catch {
            outcome.refusal = "\(error)"
            return outcome
        }
        outcome.request = request
        guard request.machine == machine.hostName else { return outcome }
        guard let account = directory[request.user] else {
            outcome.refusal = "user '\(request.user)' is not in the lab's directory"
            return outcome
        }
        var options: [String: String] = [:]
        for (name, value) in request.options.sorted(by: { $0.key < $1.key }) {
            guard let option = self.options.first(where: { $0.name == name }) else {
                let known = self.options.map(\.name)
                outcome.refusal = "option '\(name)' is not one \(request.machine) offers" + (known.isEmpty ? "" : " (\(known.joined(separator: ", ")))")
                return outcome
            }
            guard option.values.contains(value) else {
                outcome.refusal = "option '\(name)' is '\(value)', not one of \(option.values.joined(separator: ", "))"
                return outcome
            }
            options[name] = value
        }
        for option in self.options where options[option.name] == nil { options[option.name] = option.defaultValue }
        outcome.booking = Booking(id: event.id, account: account, machine: request.machine,
                                  firstDay: event.firstDay, lastDay: event.lastDay, options: options)
        return outcome
    }

    /// The machine as `booking` makes it: the machine's system, the block on top, a record of
    /// the booking in `/etc/imagec/booking`, and the previous user's data handled as declared.
    public func system(for booking: Booking) -> OperatingSystem {
        var system = machine.applying(booked(booking), at: location)
        File("/etc/imagec/booking", contents: """
            id=\(booking.id)
            user=\(booking.account.name)
            first-day=\(booking.firstDay)
            last-day=\(booking.lastDay)
            \(booking.options.sorted { $0.key < $1.key }.map { "option.\($0.key)=\($0.value)\n" }.joined())
            """).apply(to: &system, at: location)
        if previousUsersData != .kept { VolumeHandover(booking: booking, snapshot: previousUsersData == .snapshotted).apply(to: &system, at: location) }
        return system
    }

    /// One booking for each combination of option values, by the directory's first account:
    /// what `imagec lock` locks, so that every booking finds its packages in the lock.
    public var variants: [Booking] {
        let day = CalendarDay(daysSince1970: 0)
        let account = directory.accounts.first ?? Account("nobody", uid: 65534, mail: "")
        var combinations: [[String: String]] = [[:]]
        for option in options {
            combinations = combinations.flatMap { combination in option.values.map { combination.merging([option.name: $0]) { $1 } } }
        }
        return combinations.map { Booking(id: "variant", account: account, machine: machine.hostName ?? "", firstDay: day, lastDay: day, options: $0) }
    }
}
