import PortControl
import TelephonyDSP
import LineHAL
import SIPCore

/// A line that only records what the controller asks of it.
final class RecordingHardware: PortHardware {
    var onHookEvent: ((HookEvent.Kind) -> Void)?
    var onKeypadDigit: ((Character) -> Void)?
    var feed: LineFeed = .powerDown
    var ringing = false
    var tone: ToneKind?
    var offHook = false
    var media: CallHandle?
    /// The two calls of a three-way call, while the handset is in one.
    var conference: (CallHandle, CallHandle)?
    /// Ringing asked for while the handset was up: a real line would refuse (ring-trip), but
    /// asking is the controller's bug — recorded, not hidden.
    var ringRequestsOffHook = 0

    func setFeed(_ feed: LineFeed) { self.feed = feed }
    func startRinging(cadence: RingCadence, frequency: Double) {
        if offHook { ringRequestsOffHook += 1 } else { ringing = true }
    }
    func stopRinging() { ringing = false }
    func playTone(_ tone: Tone?, kind: ToneKind?) { self.tone = tone == nil ? nil : kind }
    func playSamples(_ samples: [Int16]) {}
    var audioToLineDelay: Duration = .zero
    func connectMedia(_ call: CallHandle?) {
        media = call
        conference = nil
    }
    /// Two calls joined without the handset, while they are.
    var relay: (CallHandle, CallHandle)?
    func relayMedia(_ calls: (CallHandle, CallHandle)?) { relay = calls }
    func connectConference(_ first: CallHandle, _ second: CallHandle) {
        media = first
        conference = (first, second)
    }

    func lift() {
        offHook = true
        ringing = false  // ring-trip
        onHookEvent?(.offHook)
    }

    func putDown() {
        offHook = false
        onHookEvent?(.onHook)
    }
}
