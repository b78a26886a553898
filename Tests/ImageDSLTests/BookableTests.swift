import ImageDSL
import Testing

/// A bookable machine: how events become bookings, what a booking makes of the machine, and
/// the declaration's own mistakes.
struct BookableTests {
    static let people = Directory {
        Account("alice", uid: 2001, mail: "alice@lab.example", fullName: "Alice Martin", groups: ["users"],
                sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJuX8+rxvvy5cCq6JpWA41kqg3agrhGJcMpfSKgjRqfD alice@lab"])
        Account("bob", uid: 2002, mail: "bob@lab.example")
    }

    /// The lab's format: the summary is `user - machine`, the description's `MBBWorkflow:` field an option.
    @Sendable static func parse(_ event: CalendarEvent) throws -> BookingRequest {
        let parts = event.summary.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw BookingRefusal("the summary '\(event.summary)' is not 'user - machine'") }
        return BookingRequest(user: parts[0], machine: parts[1], options: event.fields.filter { $0.key == "MBBWorkflow" })
    }

    static let machine = OperatingSystem {
        HostName("bigmem7")
        Disk(rootSlots: .ab) { PersistentVolume("home", mountPoint: "/home", size: .tebibytes(1), fileSystem: .xfs) }
        Deployment(bareMetal: BareMetal(bmc: .redfish("https://bmc7.lab.example", system: "1", credentialsFile: "/etc/imagec/bmc7"),
                                        bootMAC: "52:54:00:aa:00:07", rootDisk: .serial("ROOT7")))
    }

    static func bookable(data: DataPolicy = .wiped, options: [BookingOption] = [BookingOption("MBBWorkflow", values: ["Oui", "Non"], default: "Non")]) -> Bookable {
        Bookable(machine, directory: people, parse: parse, options: options, previousUsersData: data) { booking in
            booking.user(sudo: .withoutPassword)
            if booking.option("MBBWorkflow") == "Oui" { Packages("snakemake") }
        }
    }

    static func event(_ summary: String, description: String = "", first: String = "2026-12-07", last: String = "2026-12-08") -> CalendarEvent {
        CalendarEvent(id: "e1", summary: summary, description: description, firstDay: CalendarDay(first)!, lastDay: CalendarDay(last)!)
    }

    @Test func eventsBecomeBookingsOrAreRefusedWithTheirReason() {
        let bookable = Self.bookable()
        let accepted = bookable.read(Self.event("alice - bigmem7", description: "Projet: génomes\nMBBWorkflow: Oui\n"))
        #expect(accepted.refusal == nil)
        #expect(accepted.booking?.account.name == "alice" && accepted.booking?.options == ["MBBWorkflow": "Oui"])
        // Options not given take their default; the other fields are not options.
        #expect(bookable.read(Self.event("bob - bigmem7")).booking?.options == ["MBBWorkflow": "Non"])
        #expect(bookable.read(Self.event("carol - bigmem7")).refusal == "user 'carol' is not in the lab's directory")
        #expect(bookable.read(Self.event("a booking")).refusal == "the summary 'a booking' is not 'user - machine'")
        #expect(bookable.read(Self.event("alice - bigmem7", description: "MBBWorkflow: Peut-être")).refusal
                == "option 'MBBWorkflow' is 'Peut-être', not one of Oui, Non")
        // Another machine's booking: read, neither accepted nor refused here.
        let other = bookable.read(Self.event("alice - bigmem8"))
        #expect(other.request?.machine == "bigmem8" && other.booking == nil && other.refusal == nil)
    }

    @Test func anUndeclaredOptionIsRefused() {
        let bookable = Bookable(Self.machine, directory: Self.people, parse: { _ in BookingRequest(user: "alice", machine: "bigmem7", options: ["GPU": "2"]) }) { _ in
            HostName("bigmem7")
        }
        #expect(bookable.read(Self.event("x")).refusal == "option 'GPU' is not one bigmem7 offers")
    }

    @Test func aBookingMakesTheMachineTheUsersAndWipesThePreviousUsersVolumes() throws {
        let bookable = Self.bookable()
        let booking = try #require(bookable.read(Self.event("alice - bigmem7", description: "MBBWorkflow: Oui")).booking)
        let (model, diagnostics) = bookable.system(for: booking).resolve()
        #expect(diagnostics.filter { $0.severity == .error }.isEmpty, "\(diagnostics)")
        let system = try #require(model)
        #expect(system.hostName == "bigmem7" && system.users.contains { $0.name == "alice" && $0.uid == 2001 && $0.sudo == .withoutPassword })
        #expect(system.packages.contains("snakemake") && system.packages.contains("xfsprogs"))
        #expect(system.files.first { $0.path == "/etc/imagec/booking" }?.contents
                == "id=e1\nuser=alice\nfirst-day=2026-12-07\nlast-day=2026-12-08\noption.MBBWorkflow=Oui\n")
        let unit = try #require(system.units.first { $0.name == "imagec-claim-home.service" }?.contents)
        #expect(unit.contains("BindsTo=dev-disk-by\\x2dlabel-home.device\n") && unit.contains("Before=home.mount\n") && unit.contains("RequiredBy=home.mount\n"))
        // The volume's new file system is the user's: the same user, the same UUID, whichever booking.
        let uuid = try #require(unit.firstMatch(of: /xfs home ([0-9a-f-]{36})\n/)?.1)
        #expect(uuid.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/) != nil)
        let again = try #require(bookable.system(for: booking).resolve().model)
        #expect(again.units == system.units)
        var next = booking
        next.id = "e2"
        #expect(try #require(bookable.system(for: next).resolve().model).units == system.units)
        var other = booking
        other.account.name = "bob"
        let otherUnit = try #require(bookable.system(for: other).resolve().model?.units.first { $0.name == "imagec-claim-home.service" }?.contents)
        #expect(otherUnit.firstMatch(of: /xfs home ([0-9a-f-]{36})\n/)?.1 != uuid)
        // Kept data: no unit touches the volume.
        #expect(try #require(Self.bookable(data: .kept).system(for: booking).resolve().model).units.allSatisfy { !$0.name.hasPrefix("imagec-claim") })
    }

    @Test func everyCombinationOfOptionsIsAVariant() {
        let options = [BookingOption("MBBWorkflow", values: ["Oui", "Non"], default: "Non"), BookingOption("GPU", values: ["0", "1", "2"], default: "0")]
        let variants = Self.bookable(options: options).variants
        #expect(variants.count == 6 && Set(variants.map(\.options)).count == 6 && variants.allSatisfy { $0.account.name == "alice" })
    }

    @Test func mistakesOfTheDeclarationAreReportedAtItsLine() {
        let line = #line + 1
        let bookable = Bookable(Self.machine, directory: Self.people, parse: Self.parse,
                                options: [BookingOption("MBBWorkflow", values: ["Oui", "Non"], default: "Yes")],
                                previousUsersData: .snapshotted, remindDaysBefore: -1) { booking in booking.user() }
        #expect(bookable.problems.map { "\($0.location!.line - line): \($0.message)" } == [
            "0: remindDaysBefore is -1: give a number of days from 0 to 14",
            "0: option 'MBBWorkflow' defaults to 'Yes', which is not one of its values (Oui, Non)",
            "0: previousUsersData: .snapshotted needs volumes in a pool; a bare-metal machine's volumes are its own disks: declare .kept or .wiped",
        ])
    }

    @Test func daysCountAcrossMonthsYearsAndLeapDays() {
        #expect(CalendarDay("2026-12-31")!.adding(days: 1).description == "2027-01-01")
        #expect(CalendarDay("2028-02-28")!.adding(days: 1).description == "2028-02-29")
        #expect(CalendarDay("2026-03-01")!.adding(days: -1).description == "2026-02-28")
        #expect(CalendarDay("1970-01-01")!.daysSince1970 == 0 && CalendarDay("2026-12-07")!.daysSince1970 == 20794)
        #expect(CalendarDay("2026-02-30") == nil && CalendarDay("2026-1-07") == nil && CalendarDay("tomorrow") == nil)
        #expect(CalendarDay("2026-12-07")!.days(to: CalendarDay("2027-01-06")!) == 30)
    }
}
