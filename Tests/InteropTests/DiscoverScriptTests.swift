import Foundation
import Testing
import TestSupport

/// `scripts/discover.sh` on this machine and on copied trees of boxes it is meant for (a
/// MIPS router on OpenWrt's musl, an aarch64 box on glibc): POSIX sh under dash, the shell
/// closest to busybox ash on this machine.
@Suite("discover.sh: what a box is, before anything is built")
struct DiscoverScriptTests {
    static let script = repositoryRoot + "/scripts/discover.sh"

    /// A fake root: /proc/cpuinfo, /proc/meminfo, /lib and /dev entries as given.
    static func box(cpuinfo: String, libs: [String], devices: [String], asound: Bool) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-discover-\(UUID().uuidString.prefix(8))").path
        for dir in ["proc", "lib", "dev", "sys/class/gpio", "proc/sys/kernel"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        try cpuinfo.write(toFile: root + "/proc/cpuinfo", atomically: true, encoding: .utf8)
        try "MemTotal:         124000 kB\nMemAvailable:      61000 kB\n".write(toFile: root + "/proc/meminfo", atomically: true, encoding: .utf8)
        try "5.15.150\n".write(toFile: root + "/proc/sys/kernel/osrelease", atomically: true, encoding: .utf8)
        for l in libs { _ = FileManager.default.createFile(atPath: root + "/lib/" + l, contents: Data()) }
        for d in devices { _ = FileManager.default.createFile(atPath: root + "/dev/" + d, contents: Data()) }
        if asound {
            try FileManager.default.createDirectory(atPath: root + "/proc/asound", withIntermediateDirectories: true)
            try " 0 [voice          ]: slic - SLIC PCM\n".write(toFile: root + "/proc/asound/cards", atomically: true, encoding: .utf8)
            try "00-00: slic-pcm : : playback 1 : capture 1\n".write(toFile: root + "/proc/asound/pcm", atomically: true, encoding: .utf8)
        }
        return root
    }

    static func run(root: String? = nil, machine: String? = nil) throws -> (status: Int32, out: String, err: String) {
        var env: [String] = []
        if let root { env.append("TIPRING_DISCOVER_ROOT=\(root)") }
        if let machine { env.append("TIPRING_DISCOVER_MACHINE=\(machine)") }
        return try runCommand("/usr/bin/env", env + ["dash", script])
    }

    @Test("on this machine: every section, the CPU and libc it really has, and the native verdict")
    func here() throws {
        let r = try Self.run()
        #expect(r.status == 0, "\(r.err)")
        for heading in ["== cpu", "== system", "== memory and flash", "== gpio", "== audio", "== spi", "== who holds the hardware", "== verdict"] {
            #expect(r.out.contains(heading), "\(heading)")
        }
        #expect(r.out.contains("architecture: x86_64") || r.out.contains("architecture: aarch64"))
        #expect(r.out.contains("libc: glibc"), "\(r.out)")
        #expect(r.out.contains("TipRing can run here natively"))
        #expect(r.err.isEmpty, "\(r.err)")
    }

    @Test("a MIPS router on OpenWrt (musl, an SPI SLIC, a vendor PCM): cannot run here, and says what was found")
    func mipsRouter() throws {
        let root = try Self.box(cpuinfo: "system type\t\t: MediaTek MT7621 ver:1 eco:3\ncpu model\t\t: MIPS 1004Kc V2.15\nisa\t\t\t: mips1 mips2 mips32r1 mips32r2\nprocessor\t\t: 0\nprocessor\t\t: 1\n",
                                libs: ["ld-musl-mipsel-sf.so.1"], devices: ["spidev0.1"], asound: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try Self.run(root: root, machine: "mips")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("model: MIPS 1004Kc V2.15"))
        #expect(r.out.contains("libc: musl (ld-musl-mipsel-sf.so.1)"))
        #expect(r.out.contains("spidev0.1"))
        #expect(r.out.contains("slic - SLIC PCM"))
        #expect(r.out.contains("no /dev/gpiochip*"))
        #expect(r.out.contains("TipRing cannot run here: mips has no Swift toolchain"))
    }

    @Test("an aarch64 box on musl (OpenWrt) with a GPIO chip: needs a musl build")
    func aarch64OnMusl() throws {
        let root = try Self.box(cpuinfo: "processor\t: 0\nFeatures\t: fp asimd evtstrm crc32 cpuid\n",
                                libs: ["ld-musl-aarch64.so.1"], devices: ["gpiochip0"], asound: false)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try Self.run(root: root, machine: "aarch64")
        #expect(r.out.contains("features: fp asimd evtstrm crc32 cpuid"))
        #expect(r.out.contains("gpiochip0: label"))
        #expect(r.out.contains("TipRing needs a musl build here"))
        #expect(!r.out.contains("not reachable through GPIO"))
    }
}
