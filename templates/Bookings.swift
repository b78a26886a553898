import ImageDSL

extension Lab {
    /// The people who may book the lab's machines: a new account is reviewed like any change.
    static let people = Directory {
        Account("alice", uid: 2001, mail: "alice@lab.example", fullName: "Alice Martin",
                sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJuX8+rxvvy5cCq6JpWA41kqg3agrhGJcMpfSKgjRqfD alice@lab"])
        Account("bob", uid: 2002, mail: "bob@lab.example", fullName: "Bob Durand",
                sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvrh+MIs0sGuOcyyuyRMJzLXhNeUBJlpCjM2wCivAKg bob@lab"])
    }

    /// How GRR's hook writes a validated booking into the calendar: the summary is the user's
    /// login and the machine (`alice - bigmem2`), the description the booking form's answers, a
    /// `Question: answer` line each. Only the answers that are booking options are kept.
    @Sendable static func grrBooking(_ event: CalendarEvent) throws -> BookingRequest {
        let parts = event.summary.split(separator: " - ").map { String($0).filter { $0 != " " } }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw BookingRefusal("the summary '\(event.summary)' is not GRR's 'user - machine'")
        }
        let options = event.fields.filter { field in bookingOptions.contains { $0.name == field.key } }
        return BookingRequest(user: parts[0], machine: parts[1], options: options)
    }

    /// The booking form's questions that change the machine.
    static let bookingOptions = [BookingOption("MBBWorkflow", values: ["Oui", "Non"], default: "Non")]

    /// A bigmem users book: reinstalled for each user, who gets sudo; the previous user's /home
    /// is wiped, after a reminder two days before their booking ends. "MBBWorkflow: Oui" makes
    /// it a "bioco" machine, which runs MBB's bioinformatics workflows.
    static func bookable(_ bigmem: OperatingSystem) -> Bookable {
        Bookable(bigmem, directory: people, parse: grrBooking, options: bookingOptions,
                 previousUsersData: .wiped, remindDaysBefore: 2) { booking in
            booking.user(sudo: .withoutPassword, extraGroups: booking.option("MBBWorkflow") == "Oui" ? ["docker"] : [])
            if booking.option("MBBWorkflow") == "Oui" { bioco }
        }
    }

    /// What MBB's workflows need on a bigmem: Snakemake, and Docker for their containers.
    static let bioco = Components {
        Packages("snakemake", "docker.io")
        SystemdUnit("docker.service")
    }
}
