/// One page of a listing, and the cursor that continues it (`nil` on the last page).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: PageCursor?

    public init(items: [Item], nextCursor: PageCursor?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// The same page with every item transformed (a cursor stays valid: it points into the underlying listing).
    public func map<T: Sendable>(_ transform: (Item) throws -> T) rethrows -> Page<T> {
        Page<T>(items: try items.map(transform), nextCursor: nextCursor)
    }
}

extension Page: Equatable where Item: Equatable {}

extension Page {
    /// Every item of a listing, reading page after page of `pageSize` until the last one.
    ///
    /// ```swift
    /// let everyone = try await Page.all { try await gallery.people(page: $0) }
    /// ```
    public static func all(
        pageSize: Int = 100, _ fetch: (PageRequest) async throws -> Page<Item>
    ) async throws -> [Item] {
        var items: [Item] = []
        var cursor: PageCursor?
        repeat {
            let page = try await fetch(PageRequest(limit: pageSize, cursor: cursor))
            items += page.items
            cursor = page.nextCursor
        } while cursor != nil
        return items
    }
}

/// Which page to read: at most `limit` items, after `cursor` (from the start when `nil`).
public struct PageRequest: Hashable, Sendable {
    /// The most items a page may ask for.
    public static let maximumLimit = 1000

    public var limit: Int
    public var cursor: PageCursor?

    /// `limit` is clamped to 1…``maximumLimit``.
    public init(limit: Int = 50, cursor: PageCursor? = nil) {
        self.limit = min(max(limit, 1), Self.maximumLimit)
        self.cursor = cursor
    }
}
