import TipRingCore

/// Which SLIC driver a board's ports use.
public enum SLICDriverKind: String, Sendable, CaseIterable {
    /// Silvertel Ag1171 (and pin-compatible SLICs): ring mode (RM) + forward/reverse (F/R)
    /// toggled by the driver at the ring frequency, power-down (PD), switch hook (SHK).
    case ag1171 = "ag1171"
    /// A SLIC with its own ring generator behind one ring-enable line.
    case gpioRing = "gpio-ring"

    /// The signals a port of this kind must wire.
    public var requiredSignals: [SignalRole] {
        switch self {
        case .ag1171: [.hookSense, .ringMode, .forwardReverse, .powerDown]
        case .gpioRing: [.hookSense, .ringEnable]
        }
    }

    /// The signals a port of this kind may wire.
    public var allowedSignals: [SignalRole] {
        switch self {
        case .ag1171: [.hookSense, .ringMode, .forwardReverse, .powerDown, .reset, .led]
        case .gpioRing: [.hookSense, .ringEnable, .forwardReverse, .powerDown, .onHookTransmission, .reset, .led]
        }
    }
}

/// The role of a GPIO line on a port, as named in board files.
public enum SignalRole: String, Sendable, CaseIterable, Comparable {
    /// Switch-hook sense from the SLIC (Ag1171 SHK); active = off-hook.
    case hookSense
    /// Ring mode (Ag1171 RM); active = ringing mode.
    case ringMode
    /// Line polarity (Ag1171 F/R); active = reverse.
    case forwardReverse
    /// Power down (Ag1171 PD); active = powered down.
    case powerDown
    /// Ring generator enable (gpio-ring SLICs); active = ringing.
    case ringEnable
    /// On-hook transmission mode enable, where the SLIC has one; active = enabled.
    case onHookTransmission
    /// SLIC reset; active = held in reset.
    case reset
    /// Port LED; active = lit.
    case led

    public static func < (a: SignalRole, b: SignalRole) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One GPIO line wired to a signal, with the electrical level that means "active".
public struct SignalLine: Sendable, Hashable {
    public var offset: UInt32
    public var activeLow: Bool
    /// How an output signal drives its pin (ignored for inputs).
    public var drive: GPIODrive
    /// The pad's pull, when the board relies on the SoC's (a hook detector with an
    /// open-collector output and no resistor of its own).
    public var bias: GPIOBias

    public init(offset: UInt32, activeLow: Bool = false, drive: GPIODrive = .pushPull, bias: GPIOBias = .asIs) {
        self.offset = offset
        self.activeLow = activeLow
        self.drive = drive
        self.bias = bias
    }

    /// The Ag1171's PD wired as its datasheet asks: active-low, open drain (pin 14 must
    /// never be driven high; low powers the SLIC down, released lets it run).
    public static func ag1171PowerDown(_ offset: UInt32) -> SignalLine {
        SignalLine(offset: offset, activeLow: true, drive: .openDrain)
    }

    /// The electrical level for a logical state.
    public func level(active: Bool) -> GPIOLevel { GPIOLevel(active != activeLow) }

    /// The logical state of an electrical level.
    public func isActive(_ level: GPIOLevel) -> Bool { level.isHigh != activeLow }
}

/// A port's PCM device, from the board file.
public struct AudioDeviceDescription: Sendable, Hashable {
    /// ALSA PCM name (a stable name like `plughw:CARD=Codec,DEV=0`), or `sim` on the
    /// simulated board.
    public var device: String
    public var format: AudioFormat

    public init(device: String, format: AudioFormat) {
        self.device = device
        self.format = format
    }
}

/// The ring signal a port's hardware can make.
public struct RingLimits: Sendable, Hashable {
    /// The frequency used unless the region or the port's configuration asks otherwise.
    public var defaultFrequency: Double
    public var minimumFrequency: Double
    public var maximumFrequency: Double

    public init(defaultFrequency: Double, minimumFrequency: Double, maximumFrequency: Double) {
        self.defaultFrequency = defaultFrequency
        self.minimumFrequency = minimumFrequency
        self.maximumFrequency = maximumFrequency
    }

    /// The frequency to ring at when `wanted` is asked for: clamped to what the hardware
    /// can do.
    public func clamp(_ wanted: Double) -> Double { min(max(wanted, minimumFrequency), maximumFrequency) }
}

/// One FXS port of a board.
public struct PortDescription: Sendable, Hashable {
    /// Port number as printed on the box, from 1.
    public var id: Int
    /// GPIO chip by name (`gpiochip0`), path (`/dev/gpiochip0`) or label.
    public var gpioChip: String
    public var signals: [SignalRole: SignalLine]
    public var audio: AudioDeviceDescription
    public var ring: RingLimits

    public init(id: Int, gpioChip: String, signals: [SignalRole: SignalLine], audio: AudioDeviceDescription, ring: RingLimits) {
        self.id = id
        self.gpioChip = gpioChip
        self.signals = signals
        self.audio = audio
        self.ring = ring
    }
}

/// A board: which SLIC driver, and for each port its lines, audio and ring limits.
/// Loaded from `boards/*.json5` by ``BoardFile``.
public struct BoardDescription: Sendable, Hashable {
    public var name: String
    public var summary: String
    public var driver: SLICDriverKind
    /// False while the line offsets have not been confirmed on real hardware; the daemon
    /// warns about such a board.
    public var verified: Bool
    /// The hook timing profile (``HookTimingProfile``) the board's SLIC needs.
    public var timingProfile: HookTimingProfile
    public var ports: [PortDescription]

    public init(name: String, summary: String, driver: SLICDriverKind, verified: Bool, timingProfile: HookTimingProfile, ports: [PortDescription]) {
        self.name = name
        self.summary = summary
        self.driver = driver
        self.verified = verified
        self.timingProfile = timingProfile
        self.ports = ports
    }

    public func port(_ id: Int) -> PortDescription? { ports.first { $0.id == id } }
}
