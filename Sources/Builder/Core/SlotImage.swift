import Foundation

/// What an installer needs to put an image with two root slots on a machine's disk, written
/// into its store entry at build time: the image's partition table, the block index of
/// everything before slot A (the partitions imagec owns, written on a first install only) and
/// the block index of slot A's bytes (written into whichever slot is not running).
public struct SlotImage: Codable, Equatable, Sendable {
    /// One partition of the image's GPT.
    public struct Partition: Codable, Equatable, Sendable {
        /// Its number in the table (1 first), GRUB's `gptN`.
        public var number: Int
        public var name: String
        /// Start and length, in 512-byte sectors.
        public var start: Int
        public var sectors: Int
        /// The GPT type GUID.
        public var type: String

        public init(number: Int, name: String, start: Int, sectors: Int, type: String) {
            self.number = number
            self.name = name
            self.start = start
            self.sectors = sectors
            self.type = type
        }
    }

    public var partitions: [Partition]
    /// Bytes `0..<head.length`: the partition table, the BIOS boot and EFI system partitions,
    /// the declared partitions.
    public var head: BlockIndex
    /// Slot A's bytes.
    public var slot: BlockIndex

    public init(partitions: [Partition], head: BlockIndex, slot: BlockIndex) {
        self.partitions = partitions
        self.head = head
        self.slot = slot
    }

    /// The partition of slot `name` (`a` or `b`).
    public func slotPartition(_ name: String) -> Partition? { partitions.first { $0.name == "root-\(name)" } }
}
