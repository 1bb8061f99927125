import NIOPosix
import SIPCore
import SIPTransport
import SimulatorApp
import TipRingCore
import PortStack
import SystemCalls

/// Ports 1001 and 1002 of the simulated board with real networking (``LiveBoardSystem``),
/// accounts at Kamailio, on the wall clock: what the live media and fax tests run. Stop
/// `scheduler` when done.
struct LivePorts {
    let scheduler: WallClockScheduler
    let clock: WallClockControlPlane
    let system: LiveBoardSystem

    init(kamailio k: Kamailio, sipPorts: ClosedRange<Int>, rtpPorts: ClosedRange<Int>) async throws {
        scheduler = WallClockScheduler()
        try scheduler.start()
        clock = WallClockControlPlane(scheduler)
        do {
            system = try await LiveBoardSystem.make(
                clock: clock, registrar: ServerName(host: "127.0.0.1", port: k.port), domain: "127.0.0.1",
                accounts: [.init(user: "1001", password: "secret1"), .init(user: "1002", password: "secret2")],
                sipPorts: sipPorts, rtpPorts: rtpPorts, group: MultiThreadedEventLoopGroup.singleton)
        } catch {
            scheduler.shutdown()
            throw error
        }
    }
}
