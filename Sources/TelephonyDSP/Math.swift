// The C library's maths (sin, cos, exp, log10, …), for this module only: nothing above
// re-exports libc, so each file that calls it says so.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
