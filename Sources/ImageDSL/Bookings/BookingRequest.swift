/// What a calendar event asks for, as a ``Bookable``'s `parse` function reads it: who, which
/// machine, and the booking's options (`MBBWorkflow: Oui`).
public struct BookingRequest: Codable, Hashable, Sendable {
    /// The user's account name, as the lab's ``Directory`` knows it.
    public var user: String
    /// The machine's host name.
    public var machine: String
    public var options: [String: String]

    public init(user: String, machine: String, options: [String: String] = [:]) {
        self.user = user
        self.machine = machine
        self.options = options
    }
}

/// Thrown by a `parse` function for an event that is not a booking it can read: the message
/// is the reason the booking is refused, in the plan and the admins' mail.
public struct BookingRefusal: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ message: String) { description = message }
}
