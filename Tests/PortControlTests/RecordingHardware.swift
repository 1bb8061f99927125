import PortControl
import TelephonyDSP
import LineHAL
import SIPCore
import PortAudio
import BoardSimulator

/// A line that records what the controller asks of it — and, given a real line (the SLIC
/// driver, hook decoder, audio engine and DTMF receiver on the simulated board), passes it on:
/// then hook events and keypad digits are what the decoder and the receiver make of the
/// simulated telephone, not events a test injects.
final class RecordingHardware: PortHardware {
    /// The real line behind this one, and the telephone on it (nil: recording only).
    let line: LinePortHardware?
    let phone: SimulatedTelephone?

    init(line: LinePortHardware? = nil, phone: SimulatedTelephone? = nil) {
        self.line = line
        self.phone = phone
        line?.onHookEvent = { [unowned self] kind in self.decoded(kind) }
        line?.onKeypadDigit = { [unowned self] key in
            self.keysDecoded += 1
            self.onKeypadDigit?(key)
        }
    }

    /// Keypad digits and pulse-dialled digits the real line decoded.
    var keysDecoded = 0, pulseDigitsDecoded = 0

    /// A hook event the real line decoded: the handset's state as the port learns it.
    func decoded(_ kind: HookEvent.Kind) {
        switch kind {
        case .offHook:
            offHook = true
            ringing = false  // ring-trip
        case .onHook: offHook = false
        case .pulseDigit: pulseDigitsDecoded += 1
        default: break
        }
        onHookEvent?(kind)
    }

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

    func setFeed(_ feed: LineFeed) {
        self.feed = feed
        line?.setFeed(feed)
    }
    func startRinging(cadence: RingCadence, frequency: Double) {
        if offHook {
            ringRequestsOffHook += 1
        } else {
            ringing = true
            line?.startRinging(cadence: cadence, frequency: frequency)
        }
    }
    func stopRinging() {
        ringing = false
        line?.stopRinging()
    }
    func playTone(_ tone: Tone?, kind: ToneKind?) {
        self.tone = tone == nil ? nil : kind
        line?.playTone(tone, kind: kind)
    }
    func playSamples(_ samples: [Int16]) { line?.playSamples(samples) }
    var audioToLineDelay: Duration {
        get { line?.audioToLineDelay ?? recordedDelay }
        set { recordedDelay = newValue }
    }
    var recordedDelay: Duration = .zero
    func connectMedia(_ call: CallHandle?) {
        media = call
        conference = nil
        line?.connectMedia(call)
    }
    /// Two calls joined without the handset, while they are.
    var relay: (CallHandle, CallHandle)?
    func relayMedia(_ calls: (CallHandle, CallHandle)?) {
        relay = calls
        line?.relayMedia(calls)
    }
    func connectConference(_ first: CallHandle, _ second: CallHandle) {
        media = first
        conference = (first, second)
        line?.connectConference(first, second)
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
