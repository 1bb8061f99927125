#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

func writeStderr(_ p: UnsafePointer<UInt8>, _ count: Int) -> Int {
    write(2, p, count)
}
