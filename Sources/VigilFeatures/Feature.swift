/// Every feature Vigil computes, in the order of the feature vector.
///
/// Names and reason codes are stable: models, rules and reports refer to them. Add new features at
/// the end; never rename or reorder one.
public enum Feature: Int, CaseIterable, Sendable {
    case debtorCount5m, debtorSum5m, debtorCount1h, debtorSum1h, debtorCount24h, debtorSum24h, debtorCount7d, debtorSum7d
    case debtorDistinctCreditors24h
    case debtorAmountMean, debtorAmountStd, debtorAmountZScore
    case debtorHourUnusualness
    case debtorAccountAgeDays
    case pairNewPayee, pairCount, pairDaysSinceLast, pairAmountVsMax, pairPossibleDoublePayment
    case creditorFirstTimeSenders1h, creditorFirstTimeSenders24h
    case creditorDistinctSendingBanks24h
    case creditorInboundCount1h, creditorInboundSum1h, creditorInboundCount24h, creditorInboundSum24h
    case creditorPassThroughRatio24h
    case creditorAgeDays
    case deviceDistinctDebtors24h, ipDistinctDebtors24h
    case requestConfirmationOfPayee, requestChannel, requestScheme, requestAmountLog10, requestPayeeKnownDays
    // Issue 13: what the daily files tell (the reference store).
    case creditorReportedFraudCount90d, creditorDaysSinceLastReport
    case creditorInstitutionType, debtorInstitutionType
    case customerCount24h, customerSum24h, customerCount7d, customerDistinctCreditors24h, customerLinkedAccounts
    // Issue 14: long-horizon profiles, 30 and 90 days, for accounts in both roles.
    case creditorInboundCount30d, creditorInboundCount90d
    case creditorDistinctSenders30d, creditorDistinctSenders90d
    case creditorFirstTimeSenders30d, creditorFirstTimeSenders90d
    case creditorPassThroughRatio30d, creditorPassThroughRatio90d
    case debtorNewPayees30d, debtorNewPayees90d
    case debtorCount30d, debtorCount90d

    public static let count = allCases.count

    /// The stable name used in models, rules and exports.
    public var name: String { Self.definitions[rawValue].name }
    /// One line on what the feature measures.
    public var summary: String { Self.definitions[rawValue].summary }
    /// The reason code reported when this feature pushes a score up.
    public var reasonCode: String { Self.definitions[rawValue].reasonCode }

    /// Looks a feature up by its stable name.
    public init?(name: String) {
        guard let feature = Self.byName[name] else { return nil }
        self = feature
    }

    static let byName: [String: Feature] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })

    static let definitions: [(name: String, summary: String, reasonCode: String)] = [
        ("debtor.count_5m", "Outgoing payments by the debtor account in the last 5 minutes.", "DEBTOR_VELOCITY"),
        ("debtor.sum_5m", "Sum of the debtor's outgoing amounts in the last 5 minutes.", "DEBTOR_VELOCITY"),
        ("debtor.count_1h", "Outgoing payments by the debtor account in the last hour.", "DEBTOR_VELOCITY"),
        ("debtor.sum_1h", "Sum of the debtor's outgoing amounts in the last hour.", "DEBTOR_VELOCITY"),
        ("debtor.count_24h", "Outgoing payments by the debtor account in the last 24 hours.", "DEBTOR_VELOCITY"),
        ("debtor.sum_24h", "Sum of the debtor's outgoing amounts in the last 24 hours.", "DEBTOR_VELOCITY"),
        ("debtor.count_7d", "Outgoing payments by the debtor account in the last 7 days.", "DEBTOR_VELOCITY"),
        ("debtor.sum_7d", "Sum of the debtor's outgoing amounts in the last 7 days.", "DEBTOR_VELOCITY"),
        ("debtor.distinct_creditors_24h", "Distinct creditor accounts the debtor paid in the last 24 hours.", "MANY_PAYEES"),
        ("debtor.amount_mean", "Mean of the debtor's earlier outgoing amounts (Welford).", "AMOUNT_UNUSUAL"),
        ("debtor.amount_std", "Standard deviation of the debtor's earlier outgoing amounts (Welford).", "AMOUNT_UNUSUAL"),
        ("debtor.amount_zscore", "How many standard deviations this amount is from the debtor's mean.", "AMOUNT_UNUSUAL"),
        ("debtor.hour_unusualness", "Share of the debtor's earlier payments made at another local hour of day (smoothed).", "UNUSUAL_HOUR"),
        ("debtor.account_age_days", "Days since Vigil first saw the debtor account in any role.", "NEW_DEBTOR_ACCOUNT"),
        ("pair.new_payee", "1 when the debtor has never paid this creditor before, else 0.", "NEW_PAYEE"),
        ("pair.count", "Earlier payments from this debtor to this creditor.", "PAYEE_HISTORY"),
        ("pair.days_since_last", "Days since the debtor last paid this creditor.", "PAYEE_HISTORY"),
        ("pair.amount_vs_max", "This amount divided by the largest earlier payment to this creditor.", "AMOUNT_ABOVE_PAYEE_MAX"),
        ("pair.possible_double_payment", "1 when the same debtor paid the same creditor the same amount under another id in the last 10 minutes.", "POSSIBLE_DOUBLE_PAYMENT"),
        ("creditor.first_time_senders_1h", "Payments to the creditor in the last hour from senders paying it for the first time (all banks).", "MULE_FAN_IN"),
        ("creditor.first_time_senders_24h", "Payments to the creditor in the last 24 hours from first-time senders (all banks).", "MULE_FAN_IN"),
        ("creditor.distinct_sending_banks_24h", "Distinct sending banks (debtor agents) that paid the creditor in the last 24 hours.", "MULE_MULTI_BANK"),
        ("creditor.inbound_count_1h", "Payments received by the creditor account in the last hour.", "CREDITOR_INBOUND_VELOCITY"),
        ("creditor.inbound_sum_1h", "Sum received by the creditor account in the last hour.", "CREDITOR_INBOUND_VELOCITY"),
        ("creditor.inbound_count_24h", "Payments received by the creditor account in the last 24 hours.", "CREDITOR_INBOUND_VELOCITY"),
        ("creditor.inbound_sum_24h", "Sum received by the creditor account in the last 24 hours.", "CREDITOR_INBOUND_VELOCITY"),
        ("creditor.pass_through_ratio_24h", "The creditor's outgoing sum over its incoming sum in the last 24 hours.", "MULE_PASS_THROUGH"),
        ("creditor.age_days", "Days since the creditor account first received a payment.", "NEW_CREDITOR_ACCOUNT"),
        ("device.distinct_debtors_24h", "Distinct debtor accounts seen on this device in the last 24 hours.", "SHARED_DEVICE"),
        ("ip.distinct_debtors_24h", "Distinct debtor accounts seen from this IP address in the last 24 hours.", "SHARED_IP"),
        ("request.confirmation_of_payee", "Confirmation-of-Payee result: 0 match, 1 close match, 2 no match, 3 unavailable.", "COP_MISMATCH"),
        ("request.channel", "Channel: 0 mobile, 1 web, 2 branch, 3 api, 4 other.", "CHANNEL_RISK"),
        ("request.scheme", "Scheme: 0 FPS, 1 SEPA_INST, 2 PIX, 3 UPI, 4 FEDNOW, 5 RTP, 6 other.", "SCHEME_RISK"),
        ("request.amount_log10", "Base-10 logarithm of the amount in major units.", "AMOUNT_MAGNITUDE"),
        ("request.payee_known_days", "Days since the debtor first paid this creditor, as the bank reports it.", "PAYEE_HISTORY"),
        ("creditor.reported_fraud_count_90d", "Fraud reports naming the creditor account (any bank) that became known in the 90 days before the payment.", "CREDITOR_REPORTED"),
        ("creditor.days_since_last_report", "Days since the latest fraud report naming the creditor account became known (missing when none).", "CREDITOR_REPORTED"),
        ("creditor.institution_type", "Type of the creditor's institution in the tenant's directory: 0 bank, 1 building society, 2 credit union, 3 EMI, 4 payment institution, 5 crypto exchange, 6 gambling, 7 other.", "CREDITOR_INSTITUTION"),
        ("debtor.institution_type", "Type of the debtor's institution in the tenant's directory (codes as creditor.institution_type).", "DEBTOR_INSTITUTION"),
        ("customer.count_24h", "Outgoing payments in the last 24 hours from all accounts linked to the debtor's customer (account map).", "CUSTOMER_VELOCITY"),
        ("customer.sum_24h", "Sum of the customer's outgoing amounts over all linked accounts in the last 24 hours.", "CUSTOMER_VELOCITY"),
        ("customer.count_7d", "Outgoing payments from all the customer's linked accounts in the last 7 days.", "CUSTOMER_VELOCITY"),
        ("customer.distinct_creditors_24h", "Distinct creditor accounts the customer paid from any linked account in the last 24 hours.", "CUSTOMER_MANY_PAYEES"),
        ("customer.linked_accounts", "Accounts the tenant's account map links to the debtor's customer.", "CUSTOMER_ACCOUNTS"),
        ("creditor.inbound_count_30d", "Payments received by the creditor account in the last 30 days (daily buckets).", "CREDITOR_INBOUND_VELOCITY"),
        ("creditor.inbound_count_90d", "Payments received by the creditor account in the last 90 days (3-day buckets).", "CREDITOR_INBOUND_VELOCITY"),
        ("creditor.distinct_senders_30d", "Distinct debtor accounts (any bank) that paid the creditor in the last 30 days (by day; exact up to 64).", "MULE_MANY_SENDERS"),
        ("creditor.distinct_senders_90d", "Distinct debtor accounts (any bank) that paid the creditor in the last 90 days (by day; exact up to 64).", "MULE_MANY_SENDERS"),
        ("creditor.first_time_senders_30d", "Payments to the creditor in the last 30 days from senders paying it for the first time (all banks).", "MULE_FAN_IN"),
        ("creditor.first_time_senders_90d", "Payments to the creditor in the last 90 days from senders paying it for the first time (all banks).", "MULE_FAN_IN"),
        ("creditor.pass_through_ratio_30d", "The creditor's outgoing sum over its incoming sum in the last 30 days.", "MULE_PASS_THROUGH"),
        ("creditor.pass_through_ratio_90d", "The creditor's outgoing sum over its incoming sum in the last 90 days.", "MULE_PASS_THROUGH"),
        ("debtor.new_payees_30d", "Outgoing payments by the debtor in the last 30 days to a creditor it paid for the first time.", "MANY_NEW_PAYEES"),
        ("debtor.new_payees_90d", "Outgoing payments by the debtor in the last 90 days to a creditor it paid for the first time.", "MANY_NEW_PAYEES"),
        ("debtor.count_30d", "Outgoing payments by the debtor account in the last 30 days (daily buckets).", "DEBTOR_VELOCITY"),
        ("debtor.count_90d", "Outgoing payments by the debtor account in the last 90 days (3-day buckets).", "DEBTOR_VELOCITY"),
    ]
}
