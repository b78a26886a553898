/// A booking imagec accepted: the event's request with the user's account from the lab's
/// ``Directory`` and every option the ``Bookable`` declares (defaults filled in). A
/// ``Bookable`` makes the booked system from it.
public struct Booking: Codable, Hashable, Sendable {
    /// The calendar event's ``CalendarEvent/id``.
    public var id: String
    public var account: Account
    public var machine: String
    public var firstDay: CalendarDay
    public var lastDay: CalendarDay
    public var options: [String: String]

    public init(id: String, account: Account, machine: String, firstDay: CalendarDay, lastDay: CalendarDay, options: [String: String]) {
        self.id = id
        self.account = account
        self.machine = machine
        self.firstDay = firstDay
        self.lastDay = lastDay
        self.options = options
    }

    /// The user as an account of the booked machine (see ``Account/user(sudo:extraGroups:)``).
    public func user(sudo: User.Sudo = .none, extraGroups: [String] = []) -> User {
        account.user(sudo: sudo, extraGroups: extraGroups)
    }

    /// The value of option `name` (every declared option has one).
    public func option(_ name: String) -> String? { options[name] }
}
