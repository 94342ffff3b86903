import ArgumentParser
import Foundation
import VigilFiles
import VigilProtection
import VigilServer

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants (banks). Every change is recorded in the audit log.",
        subcommands: [
            List.self, Create.self, Erase.self, Thresholds.self, Perspectives.self, Plan.self, Allow.self, Regions.self, Rules.self,
            BindCertificate.self, Token.self, APIKeys.self, PGPKey.self,
        ]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a tenant and its data key, and print its new API key (the only line on stdout; only its hash is stored)."
        )

        @Argument(help: "Tenant name: lower-case letters, digits, '-' or '_'.") var name: String
        @OptionGroup var data: DataDirectoryOption

        func validate() throws { try validateTenantName(name) }

        func run() async throws {
            let key = try await administer("tenant create", data) { try $0.createTenant(name: name) }
            print(key)
        }
    }

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a tenant: remove it and destroy every version of its data key (crypto-shredding).",
            discussion: """
                Whatever was sealed for the tenant (account numbers, names, references in the event log) can never be \
                opened again. Its tokens stay, so consortium features keep counting its accounts anonymously. A running \
                server picks the change up within a second. Backups of keys.json taken before the erasure still hold \
                the keys: destroy them too (docs/security.md).
                """
        )

        @Argument(help: "Tenant name.") var name: String
        @Flag(help: "Confirm: the erasure cannot be undone.") var yes = false
        @OptionGroup var data: DataDirectoryOption

        func validate() throws { try validateTenantName(name) }

        func run() async throws {
            guard yes else { throw CLIError("tenant erase: this destroys '\(name)''s data keys for good; add --yes to confirm") }
            let versions = try await administer("tenant erase", data) { try $0.eraseTenant(name: name) }
            print("erased tenant \(name): destroyed data key version(s) \(versions.map(String.init).joined(separator: ", "))")
        }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a tenant's usage plan: sustained rate, burst and daily quota (429 past them).",
            discussion: "With --none the tenant has no limits."
        )

        @Argument(help: "Tenant name.") var name: String
        @Option(help: "Sustained requests per second.") var rate: Double?
        @Option(help: "Requests allowed at once after a quiet spell (the bucket size).") var burst: Int?
        @Option(name: .customLong("daily-quota"), help: "Scoring requests per UTC day (omit for none).") var dailyQuota: Int?
        @Flag(help: "Remove the plan.") var none = false
        @OptionGroup var data: DataDirectoryOption

        func validate() throws { try validateTenantName(name) }

        func run() async throws {
            var plan: UsagePlan?
            if none {
                guard rate == nil, burst == nil, dailyQuota == nil else { throw CLIError("tenant plan: --none takes no other limits") }
            } else {
                guard let rate, let burst else { throw CLIError("tenant plan: give --rate and --burst (and optionally --daily-quota), or --none") }
                plan = UsagePlan(ratePerSecond: rate, burst: burst, dailyQuota: dailyQuota)
                do {
                    try plan?.validate()
                } catch {
                    throw CLIError("tenant plan: \(error)")
                }
            }
            try await administer("tenant plan", data) { try $0.setPlan(name: name, plan: plan) }
        }
    }

    struct Allow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the networks a tenant may connect from (CIDR, IPv4 and IPv6); others get 403.",
            discussion: "Replaces the whole list. With --any the tenant may connect from anywhere."
        )

        @Argument(help: "Tenant name.") var name: String
        @Argument(help: "CIDR blocks such as 203.0.113.0/24 or 2001:db8::/32.") var networks: [String] = []
        @Flag(help: "Allow every address (remove the list).") var any = false
        @OptionGroup var data: DataDirectoryOption

        func validate() throws {
            try validateTenantName(name)
            guard !any else { return }
            do {
                _ = try AllowList(networks)
            } catch {
                throw ValidationError("\(error)")
            }
        }

        func run() async throws {
            guard any != !networks.isEmpty else { throw CLIError("tenant allow: give CIDR blocks, or --any, not both") }
            try await administer("tenant allow", data) { try $0.setAllowedNetworks(name: name, networks: any ? nil : networks) }
        }
    }

    struct Regions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pin a tenant to regions (data residency): nodes of other regions answer 403 wrong-region.",
            discussion: """
                Replaces the whole set, e.g. `vigil tenant regions bank-a eu-west,eu-central`. With --any every region \
                serves the tenant. Its answers and scored payments are not copied to regions outside the set \
                (docs/regions.md). Set it in each region's control plane. A running server picks the change up within a second.
                """
        )

        @Argument(help: "Tenant name.") var name: String
        @Argument(help: "Region names, comma- or space-separated.") var regions: [String] = []
        @Flag(help: "Serve the tenant in every region (remove the pin).") var any = false
        @OptionGroup var data: DataDirectoryOption

        var names: [String] { regions.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } }

        func validate() throws {
            try validateTenantName(name)
            guard any != !regions.isEmpty else { throw ValidationError("give region names, or --any, not both") }
            for region in names where !VigilConfiguration.isValidRegionName(region) {
                throw ValidationError("a region name \(VigilConfiguration.regionNameRule)")
            }
            guard Set(names).count == names.count else { throw ValidationError("a region is named twice") }
        }

        func run() async throws {
            try await administer("tenant regions", data) { try $0.setRegions(name: name, regions: any ? nil : names) }
        }
    }

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a tenant's rules with a rule file (checked first; nothing changes if it does not compile)."
        )

        @Argument(help: "Tenant name.") var name: String
        @Argument(help: "Rule file (docs/rules.md).") var file: String
        @OptionGroup var data: DataDirectoryOption

        func validate() throws { try validateTenantName(name) }

        func run() async throws {
            guard let text = FileManager.default.contents(atPath: file), let rules = String(data: text, encoding: .utf8) else {
                throw CLIError("tenant rules: cannot read \(file) as UTF-8 text")
            }
            try await administer("tenant rules", data) { try $0.setRules(name: name, rules: rules) }
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
        @OptionGroup var data: DataDirectoryOption

        func validate() throws {
            let given = [subject, san, sha256, cert].compactMap { $0 }.count
            guard given == 1 else { throw ValidationError("give exactly one of --subject, --san, --sha256 or --cert") }
            try validateTenantName(name)
        }

        func run() async throws {
            try await administer("tenant bind-certificate", data) { admin in
                var binding = CertificateBinding(subject: subject, san: san, sha256: sha256)
                if let cert {
                    guard let pem = FileManager.default.contents(atPath: cert) else { throw CLIError("cannot read \(cert)") }
                    binding = try CertificateBinding(certificatePEM: Array(pem))
                }
                try admin.bindCertificate(name: name, binding: binding)
            }
        }
    }
}

extension TenantCommand {
    struct PGPKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pgp-key",
            abstract: "Register the OpenPGP public key a tenant signs its daily files with (replaces any before it).",
            discussion: """
                The key is checked with gpg first (intakePGP gpg, --intake-pgp gpg); its fingerprint and the armoured key \
                are stored with the tenant and the change is audited. With PGP intake on, a file must carry a good \
                signature by this key. A running server picks the change up within a second.
                """
        )

        @Argument(help: "Tenant name.") var name: String
        @Argument(help: "The tenant's ASCII-armoured public key file.") var file: String
        @Option(name: .customLong("intake-pgp"), help: "off or gpg (default: env VIGIL_INTAKE_PGP, else off).") var intakePGP: String?
        @OptionGroup var data: DataDirectoryOption

        func validate() throws { try validateTenantName(name) }

        func run() async throws {
            guard let bytes = FileManager.default.contents(atPath: file), let armored = String(data: bytes, encoding: .utf8) else {
                throw CLIError("tenant pgp-key: cannot read \(file) as text")
            }
            var configuration = VigilConfiguration()
            configuration.dataDirectory = data.dataDir
            configuration.intakePGP = intakePGP ?? ProcessInfo.processInfo.environment["VIGIL_INTAKE_PGP"] ?? "off"
            let backends = try intakeBackends(configuration)
            let key: TenantSigningKey
            do {
                key = try await backends.opener.inspect(publicKey: armored)
            } catch {
                await backends.shutdown()
                throw CLIError("tenant pgp-key: \(error)")
            }
            await backends.shutdown()
            try await administer("tenant pgp-key", data) {
                try $0.setPGPKey(name: name, key: key)
            }
            print("registered key \(key.fingerprint) for tenant \(name)")
        }
    }
}

/// Runs an administrative action on a control plane (the data directory's files, or `--control-plane`) as the
/// current user, turning its failure into a CLI error prefixed with the verb. A missing or uninitialised data
/// directory or control plane exits 2 before anything is written.
@discardableResult
func administer<T>(_ verb: String, _ data: DataDirectoryOption, _ action: (Administration) throws -> T) async throws -> T {
    let plane = try await openControlPlane(data.resolvedControlPlane)
    let admin: Administration
    do {
        admin = try Administration.open(dataDirectory: data.dataDir, plane: plane, actor: .currentUser())
    } catch {
        throw refuse(verb, error)
    }
    do {
        return try action(admin)
    } catch {
        throw CLIError("\(verb): \(error)")
    }
}

/// Throws (exit status 2) unless `path` is a data directory `vigil serve` has set up.
func requireDataDirectory(_ verb: String, _ path: String) throws {
    do {
        try UnusableDataDirectory.check(path)
    } catch {
        throw refuse(verb, error)
    }
}

/// Says why the data directory cannot be used and exits 2, the status every admin verb gives for it, so that a
/// script can tell a wrong `--data-dir` from a refused change.
func refuse(_ verb: String, _ error: UnusableDataDirectory) -> ExitCode {
    printError(("Error: \(verb): \(error)\n".utf8))
    return ExitCode(2)
}

/// Refuses a malformed tenant name before any file is opened.
func validateTenantName(_ name: String) throws {
    guard TenantDirectory.isValidName(name) else { throw ValidationError(TenantDirectory.nameRule(name)) }
}

/// `--data-dir` and `--control-plane` of the admin verbs: what `vigil serve` has set up; they never create one.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The server's data directory; it must exist (only `vigil serve` creates one).")
    var dataDir: String = "./data"
    @Option(
        name: .customLong("control-plane"),
        help: ArgumentHelp(
            "The server's control plane: files (default, in --data-dir) or postgres://user[:password]@host:port/db (env VIGIL_CONTROL_PLANE). With PostgreSQL the master key is --data-dir's master.key or VIGIL_MASTER_KEY.",
            valueName: "url"
        )
    )
    var controlPlane: String?

    /// The flag, else `VIGIL_CONTROL_PLANE`.
    var resolvedControlPlane: String? { controlPlane ?? ProcessInfo.processInfo.environment["VIGIL_CONTROL_PLANE"] }
}
