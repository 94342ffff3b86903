/// A mule account while a fraud ring uses it: when, for how many incoming payments, and from which device and IP
/// the ring moves the money on.
struct MuleCampaign {
    var account: Int32
    var rail: Rail
    var startMillis: Int64
    var endMillis: Int64
    /// Incoming fraud payments it can still take.
    var capacity: Int
    /// Second-layer mules receive from other mules, not from victims.
    var layer: Int
    /// Received and not yet moved on, in minor units.
    var held: Int64
    var device: Int32
    var ip: Int32
}
