#if canImport(Glibc)
import Glibc
#endif
public import NIOCore

/// A tenant's IP allow-list: CIDR blocks, IPv4 and IPv6. An IPv4 client reaching an IPv6 socket as
/// `::ffff:a.b.c.d` is matched as the IPv4 address it is.
public struct AllowList: Sendable, Equatable {
    public struct Network: Sendable, Equatable, CustomStringConvertible {
        /// 16 bytes; IPv4 networks are stored IPv4-mapped (`::ffff:a.b.c.d`), their prefix offset by 96.
        let address: [UInt8]
        let prefix: Int
        public let description: String

        func contains(_ other: [UInt8]) -> Bool {
            var bits = prefix
            var i = 0
            while bits > 0 {
                let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
                if address[i] & mask != other[i] & mask { return false }
                bits -= 8
                i += 1
            }
            return true
        }
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public let networks: [Network]

    /// Parses `a.b.c.d/n`, `x:y::z/n`, or a bare address (a single host).
    public init(_ entries: [String]) throws {
        networks = try entries.map(Self.parse)
    }

    static func parse(_ text: String) throws -> Network {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let host = String(parts[0])
        let invalid = Invalid(
            description: "'\(text)' is not a CIDR block; write e.g. 203.0.113.0/24, 2001:db8::/32 or a single address"
        )
        let isV4: Bool
        let address: [UInt8]
        if let v4 = Self.bytes(host, family: AF_INET, count: 4) {
            isV4 = true
            address = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + v4
        } else if let v6 = Self.bytes(host, family: AF_INET6, count: 16) {
            isV4 = false
            address = v6
        } else {
            throw invalid
        }
        let width = isV4 ? 32 : 128
        var prefix = width
        if parts.count == 2 {
            guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(parts[1]), (0...width).contains(n) else {
                throw Invalid(description: "'\(text)': the prefix length must be 0–\(width)")
            }
            prefix = n
        }
        let fullPrefix = prefix + (isV4 ? 96 : 0)
        // Host bits set below the prefix usually mean a typo (10.0.0.1/8 for 10.0.0.0/8): refuse rather than guess.
        for bit in fullPrefix..<128 where address[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 {
            throw Invalid(description: "'\(text)' has host bits set after the /\(prefix) prefix; write the network address")
        }
        return Network(address: address, prefix: fullPrefix, description: text)
    }

    static func bytes(_ text: String, family: Int32, count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBytes { inet_pton(family, text, $0.baseAddress) } == 1
        return ok ? out : nil
    }

    /// Whether the peer may connect. An unknown address (not an IP socket) is refused.
    public func allows(_ address: SocketAddress?) -> Bool {
        guard let bytes = Self.bytes(of: address) else { return false }
        return networks.contains { $0.contains(bytes) }
    }

    /// The peer's address as 16 bytes, IPv4 mapped into IPv6.
    static func bytes(of address: SocketAddress?) -> [UInt8]? {
        // Read from the raw sockaddr: sockaddr_in keeps the address at bytes 4..<8, sockaddr_in6 at 8..<24.
        switch address {
        case .v4(let v4):
            return SocketAddress.v4(v4).withSockAddr { pointer, _ in
                let raw = UnsafeRawPointer(pointer)
                return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + (4..<8).map { raw.load(fromByteOffset: $0, as: UInt8.self) }
            }
        case .v6(let v6):
            return SocketAddress.v6(v6).withSockAddr { pointer, _ in
                let raw = UnsafeRawPointer(pointer)
                return (8..<24).map { raw.load(fromByteOffset: $0, as: UInt8.self) }
            }
        default:
            return nil
        }
    }
}
