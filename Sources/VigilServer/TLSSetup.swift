import Foundation
public import HummingbirdCore
import HummingbirdHTTP2
import NIOSSL

/// The server's TLS: certificate, key, the client CAs and the oldest version, read and checked once at start.
///
/// HTTPS serves HTTP/2 and HTTP/1.1 on one port, chosen by ALPN. With client CAs, the handshake requires a client
/// certificate that chains to one of them and is within its validity period; the certificate is then read once
/// per connection (`ClientCertificateChannel`) so that `VigilResponder` can check the tenant's bindings.
public struct ServerTLS: Sendable {
    let tlsConfiguration: TLSConfiguration
    /// Whether a client certificate is required (`--client-ca`).
    public let requiresClientCertificate: Bool

    /// Reads and checks the files a validated `configuration` names; nil when it asks for no TLS.
    /// - Throws: `VigilConfiguration.Invalid` naming the file and what is wrong with it.
    public static func load(_ configuration: VigilConfiguration) throws(VigilConfiguration.Invalid) -> ServerTLS? {
        guard let certificatePath = configuration.tlsCertificatePath else { return nil }
        guard let keyPath = configuration.tlsKeyPath else {
            throw .init(description: "a TLS certificate (tlsCertificatePath, --tls-cert) needs its private key (tlsKeyPath, --tls-key)")
        }
        let chain = try certificates(at: certificatePath, file: "TLS certificate file")
        let keyBytes = try contents(of: keyPath, file: "TLS key file")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw .init(description: "TLS key file \(keyPath) is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)")
        }
        var tls: TLSConfiguration
        if let caPath = configuration.clientCAPath {
            let roots = try certificates(at: caPath, file: "client CA file")
            tls = .makeServerConfigurationWithMTLS(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key), trustRoots: .certificates(roots)
            )
            // Tells clients which CAs to pick a certificate for.
            tls.sendCANameList = true
        } else {
            tls = .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        }
        tls.minimumTLSVersion = configuration.tlsMinimumVersion == .v1_2 ? .tlsv12 : .tlsv13
        tls.applicationProtocols = ["h2", "http/1.1"]
        // Building a context here, not on the first connection, turns a key that does not match its certificate
        // into a start-up error.
        do {
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw .init(
                description: "TLS key file \(keyPath) does not fit TLS certificate file \(certificatePath) (is it that certificate's key?): \(error)"
            )
        }
        return ServerTLS(tlsConfiguration: tls, requiresClientCertificate: configuration.clientCAPath != nil)
    }

    static func contents(of path: String, file: String) throws(VigilConfiguration.Invalid) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .init(description: "\(file) \(path) does not exist")
        }
        guard !isDirectory.boolValue else { throw .init(description: "\(file) \(path) is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .init(description: "\(file) \(path) cannot be read (check its permissions)")
        }
        return Array(data)
    }

    static func certificates(at path: String, file: String) throws(VigilConfiguration.Invalid) -> [NIOSSLCertificate] {
        let bytes = try contents(of: path, file: file)
        let certificates = try? NIOSSLCertificate.fromPEMBytes(bytes)
        guard let certificates, !certificates.isEmpty else {
            throw .init(description: "\(file) \(path) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }

    /// HTTP/2 and HTTP/1.1 over TLS, with the client certificate read once per connection when one is required.
    /// - Parameters:
    ///   - http1: For HTTP/1.1 connections and HTTP/2 streams alike (the request-deadline handler rides in it).
    ///   - idleTimeout: How long an HTTP/2 connection with no open stream stays open.
    func childChannel(
        http1: HTTP1Channel.Configuration, idleTimeout: Duration, responder: @escaping HTTPChannelHandler.Responder
    ) throws -> any ServerChildChannel {
        let channel = try HTTP2UpgradeChannel(
            tlsConfiguration: tlsConfiguration,
            configuration: HTTP2ChannelConfiguration(idleTimeout: idleTimeout, streamConfiguration: http1),
            responder: responder
        )
        return requiresClientCertificate ? ClientCertificateChannel(base: channel) : channel
    }
}
