import Foundation
import Testing
import VigilServer

struct ServerTLSTests {
    static let ca = TestCertificate(subject: [[("2.5.4.3", DER.utf8("Vigil Test CA"))]], isCA: true)
    static let server = TestCertificate(subject: [[("2.5.4.3", DER.utf8("localhost"))]], sans: [.dns("localhost")], issuer: ca)

    /// A directory holding ca.pem, server.pem and server.key, and a configuration that names them.
    static func files() throws -> (directory: String, configuration: VigilConfiguration) {
        let directory = temporaryDataDirectory()
        let paths = try server.write(to: directory, name: "server")
        try ca.pem.write(toFile: directory + "/ca.pem", atomically: true, encoding: .utf8)
        var configuration = VigilConfiguration()
        configuration.tlsCertificatePath = paths.certificate
        configuration.tlsKeyPath = paths.key
        configuration.clientCAPath = directory + "/ca.pem"
        return (directory, configuration)
    }

    func refusal(_ configuration: VigilConfiguration) -> String {
        do {
            try configuration.validate()
            _ = try ServerTLS.load(configuration)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func plainHTTPByDefault() throws {
        #expect(try ServerTLS.load(VigilConfiguration()) == nil)
        #expect(!VigilConfiguration().tlsEnabled)
    }

    @Test func loadsCertificateKeyAndClientCAs() throws {
        var (_, configuration) = try Self.files()
        let tls = try #require(try ServerTLS.load(configuration))
        #expect(tls.requiresClientCertificate)
        configuration.clientCAPath = nil
        #expect(try ServerTLS.load(configuration)?.requiresClientCertificate == false)
    }

    @Test func refusesIncompleteSettingsByName() throws {
        var configuration = VigilConfiguration()
        configuration.tlsKeyPath = "/k.pem"
        #expect(refusal(configuration).contains("a TLS key (tlsKeyPath, --tls-key) needs its certificate"))
        configuration = VigilConfiguration()
        configuration.tlsCertificatePath = "/c.pem"
        #expect(refusal(configuration).contains("needs its private key (tlsKeyPath, --tls-key)"))
        configuration = VigilConfiguration()
        configuration.clientCAPath = "/ca.pem"
        #expect(refusal(configuration).contains("client certificates (clientCAPath, --client-ca) need TLS"))
        configuration = VigilConfiguration()
        configuration.tlsMinimumVersion = .v1_2
        #expect(refusal(configuration).contains("tlsMinimumVersion, --tls-min-version) needs TLS"))
    }

    @Test func refusesBadFilesByName() throws {
        let (directory, good) = try Self.files()
        var configuration = good
        configuration.tlsCertificatePath = directory + "/missing.pem"
        #expect(refusal(configuration) == "TLS certificate file \(directory)/missing.pem does not exist")
        configuration = good
        configuration.clientCAPath = directory
        #expect(refusal(configuration) == "client CA file \(directory) is a directory")
        configuration = good
        configuration.tlsCertificatePath = good.tlsKeyPath
        #expect(refusal(configuration).contains("TLS certificate file \(good.tlsKeyPath!) holds no PEM certificate"))
        configuration = good
        configuration.tlsKeyPath = good.tlsCertificatePath
        #expect(refusal(configuration).contains("TLS key file \(good.tlsCertificatePath!) is not an unencrypted PEM private key"))
        configuration = good
        configuration.clientCAPath = good.tlsKeyPath
        #expect(refusal(configuration).contains("client CA file \(good.tlsKeyPath!) holds no PEM certificate"))
        // The key of another certificate.
        let other = try TestCertificate(subject: [[("2.5.4.3", DER.utf8("other"))]]).write(to: directory, name: "other")
        configuration = good
        configuration.tlsKeyPath = other.key
        #expect(refusal(configuration).contains("TLS key file \(other.key) does not fit TLS certificate file"))
        if getuid() != 0 {
            try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: good.tlsKeyPath!)
            #expect(refusal(good).contains("cannot be read"))
        }
    }

    @Test func readsTLSSettingsFromFileAndEnvironment() throws {
        let path = NSTemporaryDirectory() + "vigil-config-\(UUID().uuidString).json"
        try #"{"tlsCertificatePath": "/c.pem", "tlsKeyPath": "/k.pem", "clientCAPath": "/ca.pem", "tlsMinimumVersion": "1.2"}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        var configuration = try VigilConfiguration.load(file: path)
        #expect(configuration.tlsCertificatePath == "/c.pem" && configuration.tlsKeyPath == "/k.pem")
        #expect(configuration.clientCAPath == "/ca.pem" && configuration.tlsMinimumVersion == .v1_2)
        try configuration.applyEnvironment(["VIGIL_TLS_MIN_VERSION": "1.3", "VIGIL_CLIENT_CA": "/other.pem"])
        #expect(configuration.tlsMinimumVersion == .v1_3 && configuration.clientCAPath == "/other.pem")
        let error = #expect(throws: VigilConfiguration.Invalid.self) {
            try configuration.applyEnvironment(["VIGIL_TLS_MIN_VERSION": "1.1"])
        }
        #expect(error?.description == "VIGIL_TLS_MIN_VERSION must be 1.2 or 1.3")
        // A key from the environment waits for its certificate from a flag.
        var split = VigilConfiguration()
        try split.applyEnvironment(["VIGIL_TLS_KEY": "/k.pem"])
        #expect(throws: VigilConfiguration.Invalid.self) { try split.validate() }
        split.tlsCertificatePath = "/c.pem"
        try split.validate()
        try #"{"tlsCertificatePath": "/c.pem", "tlsKeyPath": "/k.pem", "tlsMinimumVersion": "1.0"}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let fileError = #expect(throws: VigilConfiguration.Invalid.self) { try VigilConfiguration.load(file: path) }
        #expect(fileError?.description == "tlsMinimumVersion must be 1.2 or 1.3")
        try #"{"tlsKeyPath": "/k.pem"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: VigilConfiguration.Invalid.self) { try VigilConfiguration.load(file: path).validate() }
    }
}
