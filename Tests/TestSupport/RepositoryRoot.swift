/// The repository's root, found from this file's path: tests read only the repository
/// (fixtures, board files, examples), never the machine around it.
package let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/TestSupport/RepositoryRoot.swift
    return parts.joined(separator: "/")
}()
