/// The `fraudType` of a label: what kind of fraud the bank reported the payment as.
public enum FraudType: String, Sendable, Hashable, CaseIterable {
    /// Authorised push-payment scam: the customer was tricked into paying.
    case appScam = "app_scam"
    /// Someone else took over the customer's access and paid out.
    case accountTakeover = "account_takeover"
    /// The payment moved money through a mule account.
    case mule
    /// The customer disputed a payment they made themselves.
    case firstParty = "first_party"
    /// Reported as fraud without a clearer category.
    case other
}
