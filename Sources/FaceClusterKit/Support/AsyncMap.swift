extension Sequence {
    /// `transform` applied to each element in order, one at a time (``concurrentMap(_:limit:_:)`` runs them at once).
    public func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

extension Optional {
    /// `transform` applied to the wrapped value, when there is one.
    public func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
