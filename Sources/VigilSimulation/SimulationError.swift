/// Why a simulation could not run or could not write its files.
public struct SimulationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; new kinds may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String

        /// A configuration value is out of range (no payments, no days).
        public static let invalidConfiguration = Code(name: "invalidConfiguration")
        /// An output file could not be created or written.
        public static let cannotWrite = Code(name: "cannotWrite")

        public var description: String { name }
    }

    public var code: Code
    /// A sentence for the person running the simulation.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
