/// TipRing's version (`tipring --version`, the status page).
public enum TipRingVersion {
    public static let number = "0.1.0"
}
