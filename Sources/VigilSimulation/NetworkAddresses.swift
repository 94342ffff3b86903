/// Device ids and IP addresses in the shapes banks see them.
enum NetworkAddresses {
    /// A mobile or browser device id.
    static func deviceId(_ random: inout RandomSource) -> String {
        let roll = random.uniform()
        if roll < 0.45 { return UUIDText.random(&random, upperCase: true) }
        if roll < 0.85 { return hex(random.next(), digits: 16) }
        return "web-" + hex(random.next(), digits: 12)
    }

    /// A public IPv4 (sometimes IPv6) address in ranges typical of the region.
    static func ip(_ region: Region, _ random: inout RandomSource) -> String {
        if random.chance(0.12) {
            let prefix = random.element(of: ["2a02:c7c", "2a01:4b00", "2001:818", "2804:14c", "2409:4042", "2600:1700"])
            var parts = [prefix]
            for _ in 0..<6 { parts.append(hex(random.next() & 0xFFFF, digits: 0)) }
            return parts.joined(separator: ":")
        }
        let first: [Int] = switch region {
        case .uk: [81, 86, 90, 92, 109, 151]
        case .germany: [84, 91, 93, 178, 217]
        case .france: [78, 82, 90, 176]
        case .netherlands: [77, 83, 145, 213]
        case .spain: [79, 83, 88, 95]
        case .italy: [79, 87, 93, 151]
        case .brazil: [177, 179, 186, 189, 200]
        case .india: [49, 103, 106, 117, 157]
        case .unitedStates: [24, 67, 73, 98, 174]
        }
        return "\(random.element(of: first)).\(random.int(below: 256)).\(random.int(below: 256)).\(1 + random.int(below: 254))"
    }

    /// A data-centre address, as used by VPNs and fraudsters' hosted browsers.
    static func hostingIP(_ random: inout RandomSource) -> String {
        let first = random.element(of: [5, 45, 64, 104, 138, 185, 193])
        return "\(first).\(random.int(below: 256)).\(random.int(below: 256)).\(1 + random.int(below: 254))"
    }

    /// Lower-case hex, zero-padded to `digits` (0: no padding).
    static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return digits > text.count ? String(repeating: "0", count: digits - text.count) + text : text
    }
}
