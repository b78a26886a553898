import Foundation

/// How a disk with two root slots (A and B) boots, shared by the image build, the installer
/// and the deployer: GRUB on the EFI system partition reads its environment block, boots the
/// slot on trial once if one is set, and otherwise the default slot. A trial that is not
/// blessed before the next boot is not tried again: that boot is the default slot's, and the
/// failed slot is recorded. No one needs to be there for the fallback (RAUC's and Mender's
/// GRUB scheme, with one try). A slot's kernel resets the machine 10 s after a panic
/// (``panicArgument``, unless the definition sets its own `panic=`), so a trial whose kernel
/// panics comes back on the default slot by itself instead of hanging.
///
/// The environment's variables:
/// - `default_slot`: `a` or `b`, the slot that booted and passed its checks;
/// - `trial_slot`: the slot to try next, or empty;
/// - `trial_left`: `1` until the trial boot starts, `0` once it has;
/// - `failed_slot`: the last slot whose trial was not blessed.
public enum SlotBoot {
    /// The environment block's path on the EFI system partition.
    public static let environmentPath = "grub/grubenv"
    /// The kernel argument of a slot's system: reset 10 s after a panic.
    public static let panicArgument = "panic=10"
    /// Where the running system mounts the EFI system partition, to bless its slot.
    public static let espMountPoint = "/boot/efi"

    /// GRUB's configuration on the EFI system partition: picks the slot, then reads the slot's
    /// own `/boot/grub/grub.cfg`. `partitions` are the slots' GPT partition numbers.
    public static func chooser(partitions: (a: Int, b: Int)) -> String {
        """
        # Written by imagec: boots root slot A or B (see SlotBoot in imagec's sources).
        regexp --set=1:disk '^([^,]*),' "$root"
        load_env --file ($root)/\(environmentPath)
        set slot="$default_slot"
        if [ -n "$trial_slot" ]; then
          if [ "$trial_left" = "1" ]; then
            set trial_left=0
            save_env --file ($root)/\(environmentPath) trial_left
            set slot="$trial_slot"
          else
            set failed_slot="$trial_slot"
            set trial_slot=
            save_env --file ($root)/\(environmentPath) failed_slot trial_slot
          fi
        fi
        if [ "$slot" = "b" ]; then set root=($disk,gpt\(partitions.b)); else set root=($disk,gpt\(partitions.a)); fi
        configfile /boot/grub/grub.cfg
        # Reached only if that slot holds no configuration: the default slot's.
        if [ "$default_slot" = "b" ]; then set root=($disk,gpt\(partitions.b)); else set root=($disk,gpt\(partitions.a)); fi
        configfile /boot/grub/grub.cfg

        """
    }

    /// GRUB's environment block: 1024 bytes, a header line, `name=value` lines, `#` padding.
    public struct Environment: Equatable, Sendable {
        public static let size = 1024
        private static let header = "# GRUB Environment Block\n"
        public var values: [String: String]

        public init(_ values: [String: String] = [:]) { self.values = values }

        /// Reads a block; `nil` if it is not one.
        public init?(block: Data) {
            guard block.count == Self.size, let text = String(data: block, encoding: .utf8), text.hasPrefix(Self.header) else { return nil }
            var values: [String: String] = [:]
            for line in text.dropFirst(Self.header.count).split(separator: "\n") where !line.hasPrefix("#") {
                guard let equals = line.firstIndex(of: "=") else { return nil }
                values[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            self.values = values
        }

        /// The block, with the variables in name order; `nil` if they do not fit.
        public var block: Data? {
            var text = Self.header
            for (name, value) in values.sorted(by: { $0.key < $1.key }) { text += "\(name)=\(value)\n" }
            guard text.utf8.count <= Self.size else { return nil }
            return Data((text + String(repeating: "#", count: Self.size - text.utf8.count)).utf8)
        }

        public subscript(name: String) -> String? {
            get { values[name].flatMap { $0.isEmpty ? nil : $0 } }
            set { values[name] = newValue ?? "" }
        }
    }
}
