import Foundation

extension EvaluationReport: Encodable {
    public func encode(to encoder: any Encoder) throws {
        try self.jsonTree.encode(to: encoder)
    }

    /// The report as UTF-8 JSON: pretty-printed, keys sorted, `null` (with a reason in `unavailable`) where a metric
    /// cannot be computed.
    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // The tree holds no non-finite number, which is the only way encoding it could fail.
        guard let data = try? encoder.encode(self.jsonTree) else { return Array("{}".utf8) }
        return Array(data) + [UInt8(ascii: "\n")]
    }

    var jsonTree: JSONTree {
        var limits: [String: JSONTree] = [:]
        var recalls: [String: JSONTree] = [:]
        var valueRates: [String: JSONTree] = [:]
        for point in self.operatingPoints {
            recalls[point.limit.key] = .number(point.recall)
            valueRates[point.limit.key] = .number(point.valueDetectionRate)
            limits[point.limit.key] = .object([
                "scoreThreshold": .integer(point.scoreThreshold),
                "falsePositiveRate": .number(point.falsePositiveRate),
                "recall": .number(point.recall),
                "precision": .number(point.precision),
                "valueDetectionRate": .number(point.valueDetectionRate),
                "flagged": .integer(point.flagged),
            ])
        }
        return .object([
            "modelVersion": .string(self.modelVersion),
            "period": .string(self.period),
            "examples": .integer(self.examples),
            "frauds": .integer(self.frauds),
            "genuine": .integer(self.genuine),
            "fraudRate": .number(self.fraudRate),
            "fraudValue": .number(self.fraudValue),
            "rocAuc": .number(self.rocAUC),
            "prAuc": .number(self.prAUC),
            "recallAtFpr": .object(recalls),
            "valueDetectionRate": .number(self.valueDetectionRate),
            "valueDetectionRateDefinition": .string(Self.definitions["valueDetectionRate"] ?? ""),
            "valueDetectionRateAtFpr": .object(valueRates),
            "thresholds": .object([
                "recallAtFpr": .object(limits),
                "decisionPolicy": self.policy.map { policy in
                    .object([
                        "reviewThreshold": .integer(policy.reviewThreshold),
                        "blockThreshold": .integer(policy.blockThreshold),
                        "ruleCount": .integer(policy.ruleCount),
                    ])
                } ?? .null,
            ]),
            "decisions": .object([
                "counts": .object(self.decisions.counts.mapValues { .integer($0) }),
                "flagged": .integer(self.decisions.flagged),
                "fraudsFlagged": .integer(self.decisions.fraudsFlagged),
                "genuineFlagged": .integer(self.decisions.genuineFlagged),
                "recall": .number(self.decisions.recall),
                "falsePositiveRate": .number(self.decisions.falsePositiveRate),
                "precision": .number(self.decisions.precision),
            ]),
            "recallByFraudType": .object(Self.recalls(self.recallByFraudType)),
            "recallByPerspective": .object(Self.recalls(self.recallByPerspective)),
            "fraudTypes": .object(Self.groups(self.recallByFraudType)),
            "perspectives": .object(Self.groups(self.recallByPerspective)),
            "alertsPerDay": .object([
                "mean": .number(self.alertsPerDay.mean),
                "max": .integer(self.alertsPerDay.max),
                "maxDay": .string(self.alertsPerDay.maxDay),
                "days": .object(self.alertsPerDay.days.mapValues { .integer($0) }),
            ]),
            "scoreBands": .array(
                self.scoreBands.map { band in
                    .object([
                        "band": .string(band.name),
                        "lower": .integer(band.lower),
                        "upper": .integer(band.upper),
                        "fraud": .integer(band.fraud),
                        "genuine": .integer(band.genuine),
                        "fraudRate": .number(band.fraudRate),
                    ])
                }
            ),
            "calibration": .array(self.calibration.map(Self.bin)),
            "calibrationByQuantile": .array(self.calibrationByQuantile.map(Self.bin)),
            "brierScore": .number(self.brierScore),
            "unavailable": .object(self.unavailable.mapValues { .string($0) }),
            "warnings": .array(
                self.warnings.map { .object(["code": .string($0.code), "message": .string($0.message)]) }
            ),
            "rules": .array(
                self.ruleHits.map { rule in
                    .object([
                        "name": .string(rule.name),
                        "hits": .integer(rule.hits),
                        "fraudHits": .integer(rule.fraudHits),
                        "precision": .number(rule.precision),
                        "recall": .number(rule.recall),
                    ])
                }
            ),
            "topFlagged": .array(self.topFlagged.map(Self.payment)),
            "missedFrauds": .object([
                "count": .integer(self.missedFraudCount),
                "largest": .array(self.missedFrauds.map(Self.payment)),
            ]),
            "definitions": .object(Self.definitions.mapValues { .string($0) }),
        ])
    }

    private static func recalls(_ groups: [GroupRecall]) -> [String: JSONTree] {
        Dictionary(uniqueKeysWithValues: groups.map { ($0.name, JSONTree.number($0.recall)) })
    }

    private static func groups(_ groups: [GroupRecall]) -> [String: JSONTree] {
        Dictionary(
            uniqueKeysWithValues: groups.map { group in
                (
                    group.name,
                    JSONTree.object([
                        "examples": .integer(group.examples),
                        "frauds": .integer(group.frauds),
                        "fraudsFlagged": .integer(group.fraudsFlagged),
                        "alerts": .integer(group.alerts),
                        "recall": .number(group.recall),
                        "fraudValue": .number(group.fraudValue),
                        "valueDetectionRate": .number(group.valueDetectionRate),
                    ])
                )
            }
        )
    }

    private static func payment(_ example: ScoredExample) -> JSONTree {
        .object([
            "paymentId": .string(example.paymentId),
            "day": .string(example.day),
            "score": .integer(example.score),
            "decision": .string(example.decision),
            "isFraud": .bool(example.isFraud),
            "fraudType": .string(example.fraudType),
            "amount": .number(example.amount),
            "reasons": .array(example.reasons.map { .string($0) }),
            "rules": .array(example.rules.map { .string($0) }),
        ])
    }

    private static func bin(_ bin: CalibrationBin) -> JSONTree {
        .object([
            "lower": .number(bin.lower),
            "upper": .number(bin.upper),
            "lowestScore": .integer(bin.lowestScore),
            "highestScore": .integer(bin.highestScore),
            "count": .integer(bin.count),
            "frauds": .integer(bin.frauds),
            "meanPredicted": .number(bin.meanPredicted),
            "observedFraudRate": .number(bin.observedFraudRate),
        ])
    }
}
