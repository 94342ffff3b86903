import ArgumentParser
import Foundation
import VigilServer

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants (banks).", subcommands: [Create.self, BindCertificate.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a tenant and print its new API key (the only line on stdout; only its hash is stored)."
        )

        @Argument(help: "Tenant name: lower-case letters, digits, '-' or '_'.") var name: String
        @Option(name: .customLong("data-dir"), help: "Data directory (default ./data).") var dataDir: String = "./data"

        func run() async throws {
            do {
                let key = try TenantDirectory(dataDirectory: dataDir).create(name: name)
                print(key)
            } catch {
                throw CLIError("tenant create: \(error)")
            }
        }
    }

    struct BindCertificate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bind-certificate",
            abstract: "Bind a tenant to a client certificate: requests with its credentials then need that certificate.",
            discussion: """
                Give exactly one of --subject (RFC 4514, e.g. 'CN=bank-a-client,O=Bank A,C=GB'), --san (a DNS name, \
                URI or email SAN), --sha256 (the DER certificate's fingerprint) or --cert (a PEM certificate, bound by \
                its SHA-256 fingerprint). A running server picks the change up within a second.
                """
        )

        @Argument(help: "Tenant name.") var name: String
        @Option(help: "Certificate subject, RFC 4514 (openssl x509 -noout -subject -nameopt RFC2253).") var subject: String?
        @Option(help: "A DNS name, URI or email subject alternative name.") var san: String?
        @Option(help: "SHA-256 fingerprint of the DER certificate, 64 hex digits (colons allowed).") var sha256: String?
        @Option(help: "PEM certificate file to bind by its SHA-256 fingerprint.") var cert: String?
        @Option(name: .customLong("data-dir"), help: "Data directory (default ./data).") var dataDir: String = "./data"

        func validate() throws {
            let given = [subject, san, sha256, cert].compactMap { $0 }.count
            guard given == 1 else { throw ValidationError("give exactly one of --subject, --san, --sha256 or --cert") }
        }

        func run() async throws {
            do {
                var binding = CertificateBinding(subject: subject, san: san, sha256: sha256)
                if let cert {
                    guard let pem = FileManager.default.contents(atPath: cert) else { throw CLIError("cannot read \(cert)") }
                    binding = try CertificateBinding(certificatePEM: Array(pem))
                }
                let matcher = try binding.compiled()
                try TenantDirectory(dataDirectory: dataDir).update { configs in
                    guard let index = configs.firstIndex(where: { $0.name == name }) else {
                        throw CLIError("there is no tenant '\(name)'")
                    }
                    var bindings = configs[index].clientCertificates ?? []
                    if !(try bindings.contains { try $0.compiled() == matcher }) { bindings.append(binding) }
                    configs[index].clientCertificates = bindings
                }
            } catch {
                throw CLIError("tenant bind-certificate: \(error)")
            }
        }
    }
}
