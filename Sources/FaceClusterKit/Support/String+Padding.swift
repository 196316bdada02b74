extension String {
    /// The string with `pad` added in front up to `length` characters (zero-padded numbers, sortable keys).
    func leftPadded(to length: Int, with pad: Character = "0") -> String {
        count >= length ? self : String(repeating: pad, count: length - count) + self
    }
}
