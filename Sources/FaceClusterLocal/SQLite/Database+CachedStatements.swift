import GRDB

extension Database {
    /// Executes `sql` through the statement SQLite compiled for it the first time on this connection (GRDB's
    /// `cachedStatement(sql:)`), not one compiled anew on every call as `execute(sql:arguments:)` does: compiling
    /// was about half the CPU of the store's queries in an ingest (perf, lfw10). For SQL with no interpolated parts
    /// only, so that the cache stays as small as the code's statements.
    func executeCached(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
