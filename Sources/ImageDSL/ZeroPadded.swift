extension BinaryInteger {
    /// The number in decimal, padded with zeros to `width` digits: `7.zeroPadded(to: 3)` is `"007"`.
    /// Handy for generated host names such as `slurmd-worker-007`.
    public func zeroPadded(to width: Int) -> String {
        let digits = String(self)
        return String(repeating: "0", count: Swift.max(0, width - digits.count)) + digits
    }
}
