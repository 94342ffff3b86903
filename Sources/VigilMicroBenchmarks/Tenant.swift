import VigilEngine

/// The tenant every payment is scored for: `TenantConfig`'s defaults (review at 600, block at 900, the two
/// default rules). `TenantConfig` lives in VigilServer, which this program does not depend on, so its
/// `defaultRules` text is copied here; keep the two in step.
enum BenchmarkTenant {
    static let defaultRules = """
        # Raise mule fan-in and likely double payments for a human look.
        rule "mule-burst": creditor.first_time_senders_1h >= 10 and amount > 500 -> review
        rule "double-payment": pair.possible_double_payment == 1 -> review

        """

    static func policy() throws -> TenantPolicy {
        TenantPolicy(name: "bench", reviewThreshold: 600, blockThreshold: 900, rules: try TenantPolicy.compileRules(defaultRules))
    }
}
