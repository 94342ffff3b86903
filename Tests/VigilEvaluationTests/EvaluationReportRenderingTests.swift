import Foundation
import Testing
@testable import VigilEvaluation

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct EvaluationReportRenderingTests {
    static let degenerate: [(String, [ScoredExample])] = [
        ("empty", []),
        ("genuine only", [example(100, fraud: false), example(700, fraud: false)]),
        ("fraud only", [example(100, fraud: true), example(700, fraud: true)]),
        ("one of each", [example(100, fraud: true), example(700, fraud: false)]),
        ("non-finite", [example(900, fraud: true, probability: .nan, amount: .nan), example(1, fraud: false, probability: .infinity)]),
    ]

    /// A realistic mix with a policy and awkward characters in the model version, then the degenerate inputs.
    static let reports: [(String, EvaluationReport)] =
        [(
            "mixed",
            EvaluationReport(
                examples: EvaluationReportTests.mixed + thresholdExamples, modelVersion: "xgb-test <&>",
                period: "2026-03", policy: DecisionPolicy(reviewThreshold: 600, blockThreshold: 900, ruleCount: 2)
            )
        )]
        + Self.degenerate.map { ($0.0, EvaluationReport(examples: $0.1, modelVersion: "xgb-\($0.0)", period: "2026-03")) }

    private func parseJSON(_ report: EvaluationReport) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(report.json()))
        return try #require(object as? [String: Any])
    }

    @Test func jsonHasTheAgreedKeys() throws {
        let json = try self.parseJSON(EvaluationReport(examples: thresholdExamples, modelVersion: "m", period: "p"))
        for key in [
            "rocAuc", "prAuc", "recallAtFpr", "valueDetectionRate", "valueDetectionRateAtFpr", "recallByFraudType",
            "recallByPerspective", "examples", "frauds", "fraudRate", "thresholds", "alertsPerDay", "scoreBands",
            "calibration", "brierScore", "definitions", "unavailable", "modelVersion", "period",
        ] {
            #expect(json[key] != nil, "missing \(key)")
        }
        let recalls = try #require(json["recallAtFpr"] as? [String: Any])
        #expect((recalls["0.001"] as? NSNumber)?.doubleValue == 0.5)
        #expect((recalls["0.01"] as? NSNumber)?.doubleValue == 0.8)
        let thresholds = try #require(json["thresholds"] as? [String: Any])
        let atFPR = try #require(thresholds["recallAtFpr"] as? [String: [String: Any]])
        #expect((atFPR["0.01"]?["scoreThreshold"] as? NSNumber)?.intValue == 700)
        #expect((json["scoreBands"] as? [Any])?.count == 10)
        let definitions = try #require(json["definitions"] as? [String: String])
        #expect(definitions["valueDetectionRate"]?.contains("decision") == true)
    }

    @Test func jsonKeysAreSortedAndPretty() {
        let text = String(decoding: EvaluationReport(examples: [], modelVersion: "m", period: "p").json(), as: UTF8.self)
        #expect(text.contains("\n  \"alertsPerDay\""))
        let alerts = text.range(of: "\"alertsPerDay\"")
        let unavailable = text.range(of: "\"unavailable\"")
        #expect(alerts != nil && unavailable != nil && alerts!.lowerBound < unavailable!.lowerBound)
    }

    @Test(arguments: Self.degenerate.map(\.0))
    func degenerateInputGivesNullWithReason(name: String) throws {
        let examples = try #require(Self.degenerate.first { $0.0 == name }).1
        let report = EvaluationReport(examples: examples, modelVersion: "m", period: "p")
        let bytes = report.json()
        let text = String(decoding: bytes, as: UTF8.self).lowercased()
        #expect(!text.contains("nan") && !text.contains("inf"))
        let json = try self.parseJSON(report)
        let unavailable = try #require(json["unavailable"] as? [String: String])
        if report.rocAUC == nil {
            #expect(json["rocAuc"] is NSNull)
            #expect(json["prAuc"] is NSNull)
            #expect(unavailable["rocAuc"] != nil)
            let recalls = try #require(json["recallAtFpr"] as? [String: Any])
            #expect(recalls["0.001"] is NSNull && recalls["0.01"] is NSNull)
        }
        if report.valueDetectionRate == nil {
            #expect(json["valueDetectionRate"] is NSNull)
            #expect(unavailable["valueDetectionRate"] != nil)
        }
        if report.rocAUC == nil { #expect(report.markdown().contains("n/a (no")) }
    }

    @Test func encodableMatchesJSON() throws {
        let report = EvaluationReport(examples: EvaluationReportTests.mixed, modelVersion: "m", period: "p")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        #expect(Array(try encoder.encode(report)) + [UInt8(ascii: "\n")] == report.json())
    }

    @Test func markdownExplainsEveryHeadlineMetric() {
        let report = EvaluationReport(
            examples: EvaluationReportTests.mixed, modelVersion: "xgb-1", period: "2026-03-01/2026-03-31",
            policy: DecisionPolicy(reviewThreshold: 600, blockThreshold: 900, ruleCount: 2)
        )
        let markdown = report.markdown()
        #expect(markdown.hasPrefix("# Fraud model evaluation: xgb-1\n"))
        for text in [
            "ROC-AUC", "PR-AUC", "Recall at 0.1% FPR", "Recall at 1% FPR", "Value-detection rate", "Alerts per day",
            "Brier score", "review at score ≥ 600", "| app_scam |", "| receiving |", "| 900–999 |",
            "(score ≥ 950)", "36.7%", "roc.svg",
        ] {
            #expect(markdown.contains(text), "missing \(text)")
        }
        for definition in EvaluationReport.definitions.values { #expect(markdown.contains(definition)) }
    }

    @Test func filesHaveDistinctNames() {
        let files = EvaluationReport(examples: [], modelVersion: "m", period: "p").files()
        #expect(Set(files.map(\.name)).count == files.count)
        #expect(files.allSatisfy { !$0.contents.isEmpty })
    }

    @Test(arguments: Self.reports.map(\.0))
    func svgsAreWellFormedWithTitleAndBothClasses(name: String) throws {
        let report = try #require(Self.reports.first { $0.0 == name }).1
        let charts = [
            ("ROC curve", report.rocSVG()), ("ROC curve", report.rocSVG(falsePositiveRateAxis: .linear)),
            ("Precision–recall", report.precisionRecallSVG()), ("Score distribution", report.scoreDistributionSVG()),
        ]
        for (title, svg) in charts {
            let document = try #require(SVGText(svg), "not well-formed: \(title)")
            #expect(document.root == "svg")
            #expect(document.title.hasPrefix(title))
            #expect(document.text.contains(title))
            #expect(document.text.contains("fraud") && document.text.contains("genuine"))
            #expect(!svg.contains("<script") && !svg.contains("href"))
            #expect(!svg.lowercased().contains("nan"))
        }
    }
}

/// The root element, `<title>` and visible text of an SVG document, or `nil` when it is not well-formed XML.
private struct SVGText {
    let root: String
    let title: String
    let text: String

    init?(_ svg: String) {
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        guard parser.parse(), let root = collector.root else { return nil }
        self.root = root
        self.title = collector.title
        self.text = collector.text
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var root: String?
        var title = ""
        var text = ""
        private var path: [String] = []

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if self.root == nil { self.root = elementName }
            self.path.append(elementName)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            if elementName == "text" { self.text += "\n" }
            self.path.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if self.path == ["svg", "title"] { self.title += string }
            if self.path.last == "text" { self.text += string }
        }
    }
}

/// Every text element of the charts stays on the 640 px canvas, as wide as ``SVGChart/textWidth(_:size:)``
/// estimates it: with a real model version and period in the subtitle, and the block threshold near the right edge.
@Suite struct SVGLayoutTests {
    static let report = EvaluationReport(
        examples: EvaluationReportTests.mixed + thresholdExamples, modelVersion: "xgb-03da51b9b023cb0e",
        period: "2026-03-17T00:00:15.696Z to 2026-03-31T23:59:18.755Z",
        policy: DecisionPolicy(reviewThreshold: 600, blockThreshold: 950, ruleCount: 2)
    )

    /// Each `<text>` element's x, anchor, font size and content (subtitle and labels are single-line, unrotated).
    static func texts(_ svg: String) -> [(x: Double, anchor: String, size: Double, text: String)] {
        svg.components(separatedBy: "\n").compactMap { line in
            guard line.hasPrefix("<text "), !line.contains("rotate("), let close = line.firstIndex(of: ">") else { return nil }
            func attribute(_ name: String) -> String? {
                guard let start = line.range(of: " \(name)=\"") else { return nil }
                return String(line[start.upperBound...].prefix { $0 != "\"" })
            }
            let content = line[line.index(after: close)...].replacingOccurrences(of: "</text>", with: "")
                .replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">")
            return (Double(attribute("x") ?? "") ?? -1, attribute("text-anchor") ?? "start", Double(attribute("font-size") ?? "") ?? 0, content)
        }
    }

    @Test(arguments: ["roc", "roc-linear", "precision-recall", "score-distribution"])
    func textStaysOnTheCanvas(chart: String) {
        let svg = switch chart {
        case "roc": Self.report.rocSVG()
        case "roc-linear": Self.report.rocSVG(falsePositiveRateAxis: .linear)
        case "precision-recall": Self.report.precisionRecallSVG()
        default: Self.report.scoreDistributionSVG()
        }
        let texts = Self.texts(svg)
        #expect(texts.contains { $0.text.contains("xgb-03da51b9b023cb0e") })
        #expect(texts.contains { $0.text.contains("2026-03-31T23:59:18.755Z") })
        for text in texts {
            let width = SVGChart.textWidth(text.text, size: text.size)
            let start = switch text.anchor {
            case "end": text.x - width
            case "middle": text.x - width / 2
            default: text.x
            }
            #expect(start >= 0 && start + width <= SVGChart.width, "off the canvas: \(text.text)")
        }
    }

    @Test func blockGuideLabelTurnsLeftAtTheRightEdge() throws {
        let texts = Self.texts(Self.report.scoreDistributionSVG())
        let block = try #require(texts.first { $0.text == "block ≥ 950" })
        #expect(block.anchor == "end")
        let review = try #require(texts.first { $0.text == "review ≥ 600" })
        #expect(review.anchor == "start")
    }

    @Test func longSubtitlesWrapAndPushThePlotDown() {
        let chart = SVGChart(title: "t", subtitle: Self.report.subtitle, x: .linear(0, 1), y: .linear(0, 1))
        #expect(chart.subtitleLines.count == 2)
        #expect(chart.top == 76)
        let short = SVGChart(title: "t", subtitle: "m · p", x: .linear(0, 1), y: .linear(0, 1))
        #expect(short.subtitleLines == ["m · p"] && short.top == 62)
    }
}
