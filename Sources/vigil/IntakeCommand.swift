import ArgumentParser
import Foundation
import VigilFiles
import VigilIntake
import VigilPostgres
import VigilProtection
import VigilServer

struct IntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake", abstract: "Daily-file intake: Vigil's public PGP key for banks to encrypt their files to.",
        subcommands: [Key.self]
    )

    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print Vigil's public intake key (ASCII-armoured) for banks to encrypt their daily files to; made on first use.",
            discussion: "Needs PGP intake (intakePGP gpg, --intake-pgp gpg or VIGIL_INTAKE_PGP=gpg): the key lives in DATA/intake/gnupg."
        )

        @OptionGroup var intake: IntakeOptions

        func run() async throws {
            let backends = try intake.backends()
            let key: String
            do {
                key = try await backends.opener.intakePublicKey()
            } catch {
                await backends.shutdown()
                throw CLIError("intake key: \(error)")
            }
            await backends.shutdown()
            print(key, terminator: "")
        }
    }
}

/// The intake settings an admin verb needs: the data directory and whether PGP intake is on, from the flags, else
/// `VIGIL_INTAKE_PGP`, else the config file's `intakePGP`.
struct IntakeOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The server's data directory (default ./data).") var dataDir: String = "./data"
    @Option(name: .customLong("intake-pgp"), help: "off or gpg (default: env VIGIL_INTAKE_PGP, the config file's intakePGP, else off).")
    var intakePGP: String?
    @Option(help: "JSON config file (see README, Configuration).") var config: String?

    func configuration() throws -> VigilConfiguration {
        var configuration = VigilConfiguration()
        do {
            if let config { configuration = try VigilConfiguration.load(file: config) }
            try configuration.applyEnvironment()
            configuration.dataDirectory = dataDir
            if let intakePGP { configuration.intakePGP = intakePGP }
            try configuration.validate()
        } catch {
            throw CLIError("configuration: \(error)")
        }
        return configuration
    }

    func backends() throws -> IntakeBackends { try intakeBackends(try configuration()) }
}

/// The scanner and opener the configuration names: the embedded defaults (no scanning, plain files), or the
/// VigilIntake adapters (clamd, gpg in `DATA/intake/gnupg`).
func intakeBackends(_ configuration: VigilConfiguration, store: (any FileMetadataStore)? = nil) throws -> IntakeBackends {
    var backends = IntakeBackends(store: store)
    let scan: IntakeScanSetting
    let pgp: IntakePGPSetting
    do {
        scan = try IntakeScanSetting(parsing: configuration.intakeScan)
        pgp = try IntakePGPSetting(parsing: configuration.intakePGP)
    } catch {
        throw CLIError("configuration: \(error)")
    }
    switch scan {
    case .off: backends.scanner = ScanningOff()
    case .clamdSocket(let path): backends.scanner = ClamdScanner(address: .unix(path: path))
    case .clamdTCP(let host, let port): backends.scanner = ClamdScanner(address: .tcp(host: host, port: port))
    }
    switch pgp {
    case .off: backends.opener = PlaintextOpener()
    case .gpg:
        let opener = GnuPGOpener(home: configuration.dataDirectory + "/intake/gnupg")
        backends.opener = opener
        backends.shutdown = { await opener.shutdown() }
    }
    return backends
}
