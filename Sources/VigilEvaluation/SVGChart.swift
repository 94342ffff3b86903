import Foundation

/// How an axis maps values to its length.
public enum AxisScale: Sendable {
    case linear(Double, Double)
    /// Base 10, from a positive lower bound; values below it sit on the axis's start.
    case logarithmic(Double, Double)

    /// Where `value` falls along the axis, 0 at its start and 1 at its end, clamped.
    public func fraction(_ value: Double) -> Double {
        let fraction: Double
        switch self {
        case .linear(let low, let high):
            fraction = (value - low) / (high - low)
        case .logarithmic(let low, let high):
            fraction = (log10(Swift.max(value, low)) - log10(low)) / (log10(high) - log10(low))
        }
        return fraction.isFinite ? Swift.min(Swift.max(fraction, 0), 1) : 0
    }
}

/// A 640 × 440 chart with one plot area, built element by element and rendered as a self-contained SVG document:
/// no scripts, no external fonts or styles, dark text on a white background.
public struct SVGChart {
    static let width = 640.0
    static let height = 440.0
    static let font = "Helvetica, Arial, sans-serif"

    static let subtitleSize = 11.0
    static let subtitleLineHeight = 14.0

    /// The plot area's edges, in pixels from the top left; the top moves down one line for each extra line the
    /// subtitle needs.
    let left = 74.0
    let top: Double
    let right = 616.0
    let bottom = 372.0

    let title: String
    let subtitle: String
    /// The subtitle broken at its ` · ` separators into lines that fit the canvas.
    let subtitleLines: [String]
    let x: AxisScale
    let y: AxisScale
    private var elements: [String] = []

    public init(title: String, subtitle: String, x: AxisScale, y: AxisScale) {
        self.title = title
        self.subtitle = subtitle
        self.x = x
        self.y = y
        self.subtitleLines = Self.wrapped(subtitle, size: Self.subtitleSize, width: Self.width - 74 - 16)
        self.top = 62 + Self.subtitleLineHeight * Double(self.subtitleLines.count - 1)
    }

    /// A generous estimate of how wide `text` renders in Helvetica at `size` px (its glyphs average about half the
    /// size; digits and capitals a little more), for keeping text on the canvas.
    static func textWidth(_ text: String, size: Double) -> Double {
        Double(text.count) * size * 0.6
    }

    /// `text` in lines of at most `width` pixels, broken at ` · `; a part too long on its own is cut with `…`.
    static func wrapped(_ text: String, size: Double, width: Double) -> [String] {
        let limit = Swift.max(Int(width / (size * 0.6)), 2)
        var lines: [String] = []
        for part in text.components(separatedBy: " · ") {
            let part = part.count > limit ? String(part.prefix(limit - 1)) + "…" : part
            if let last = lines.last, last.count + 3 + part.count <= limit {
                lines[lines.count - 1] = last + " · " + part
            } else {
                lines.append(part)
            }
        }
        return lines.isEmpty ? [""] : lines
    }

    func px(_ value: Double) -> Double { self.left + self.x.fraction(value) * (self.right - self.left) }
    func py(_ value: Double) -> Double { self.bottom - self.y.fraction(value) * (self.bottom - self.top) }

    /// Grid lines, ticks, tick labels and the axis titles.
    public mutating func axes(xTicks: [(Double, String)], yTicks: [(Double, String)], xLabel: String, yLabel: String) {
        for (value, label) in xTicks {
            let x = self.px(value)
            self.line(x, self.top, x, self.bottom, stroke: "#e3e3e3")
            self.line(x, self.bottom, x, self.bottom + 5, stroke: "#333333")
            self.text(label, x: x, y: self.bottom + 19, size: 11, anchor: "middle")
        }
        for (value, label) in yTicks {
            let y = self.py(value)
            self.line(self.left, y, self.right, y, stroke: "#e3e3e3")
            self.line(self.left - 5, y, self.left, y, stroke: "#333333")
            self.text(label, x: self.left - 8, y: y + 4, size: 11, anchor: "end")
        }
        self.elements.append(
            "<rect x=\"\(n(self.left))\" y=\"\(n(self.top))\" width=\"\(n(self.right - self.left))\" "
                + "height=\"\(n(self.bottom - self.top))\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>"
        )
        self.text(xLabel, x: (self.left + self.right) / 2, y: self.bottom + 42, size: 12, anchor: "middle")
        let middle = (self.top + self.bottom) / 2
        self.elements.append(
            "<text x=\"18\" y=\"\(n(middle))\" transform=\"rotate(-90 18 \(n(middle)))\" font-size=\"12\" "
                + "text-anchor=\"middle\" fill=\"#222222\">\(Formatting.xmlEscaped(yLabel))</text>"
        )
    }

    public mutating func line(
        _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1, dash: String? = nil
    ) {
        self.elements.append(
            "<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\" "
                + "stroke-width=\"\(n(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>"
        )
    }

    /// A polyline through data points, in data coordinates.
    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, dash: String? = nil) {
        guard points.count > 1 else { return }
        let coordinates = points.map { "\(n(self.px($0.0))),\(n(self.py($0.1)))" }.joined(separator: " ")
        self.elements.append(
            "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\" "
                + "stroke-linejoin=\"round\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>"
        )
    }

    /// A filled rectangle between data coordinates.
    public mutating func bar(x0: Double, x1: Double, y0: Double, y1: Double, fill: String, label: String) {
        let (left, right) = (self.px(x0), self.px(x1))
        let (top, bottom) = (self.py(y1), self.py(y0))
        guard bottom - top > 0 else { return }
        self.elements.append(
            "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(right - left))\" height=\"\(n(bottom - top))\" "
                + "fill=\"\(fill)\"><title>\(Formatting.xmlEscaped(label))</title></rect>"
        )
    }

    public enum MarkerShape { case circle, square }

    /// A marker at a data point.
    public mutating func marker(_ shape: MarkerShape, at point: (Double, Double), fill: String, label: String? = nil) {
        let (x, y) = (self.px(point.0), self.py(point.1))
        self.elements.append(Self.markerElement(shape, x: x, y: y, fill: fill))
        if let label { self.text(label, x: x + 8, y: y - 7, size: 11, anchor: "start") }
    }

    private static func markerElement(_ shape: MarkerShape, x: Double, y: Double, fill: String) -> String {
        switch shape {
        case .circle:
            "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"5\" fill=\"\(fill)\" stroke=\"#222222\" stroke-width=\"1\"/>"
        case .square:
            "<rect x=\"\(n(x - 5))\" y=\"\(n(y - 5))\" width=\"10\" height=\"10\" fill=\"\(fill)\" "
                + "stroke=\"#222222\" stroke-width=\"1\"/>"
        }
    }

    public mutating func text(
        _ string: String, x: Double, y: Double, size: Double, anchor: String, fill: String = "#222222",
        weight: String? = nil
    ) {
        self.elements.append(
            "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\""
                + "\(weight.map { " font-weight=\"\($0)\"" } ?? "")>\(Formatting.xmlEscaped(string))</text>"
        )
    }

    /// A line across the plot area at a data x, labelled at its top: right of the line, or left of it when the
    /// label would run past the plot area's right edge.
    public mutating func verticalGuide(at value: Double, label: String, stroke: String = "#777777") {
        let x = self.px(value)
        self.line(x, self.top, x, self.bottom, stroke: stroke, width: 1, dash: "4 3")
        let fitsRight = x + 3 + Self.textWidth(label, size: 10) <= self.right
        self.text(
            label, x: fitsRight ? x + 3 : x - 3, y: self.top + 12, size: 10, anchor: fitsRight ? "start" : "end",
            fill: "#444444"
        )
    }

    /// A message across the middle of the plot area, for when there is nothing to draw.
    public mutating func notice(_ message: String) {
        self.text(
            message, x: (self.left + self.right) / 2, y: (self.top + self.bottom) / 2, size: 13, anchor: "middle",
            fill: "#555555"
        )
    }

    public enum LegendSymbol {
        case line(String, dash: String?)
        case box(String)
        case marker(MarkerShape, String)
    }

    public enum Corner { case topRight, bottomRight, bottomLeft }

    /// A boxed legend in a corner of the plot area.
    public mutating func legend(_ entries: [(LegendSymbol, String)], corner: Corner) {
        guard !entries.isEmpty else { return }
        let rowHeight = 18.0
        // Helvetica at 11 px averages a little under 6 px a character.
        let width = 44 + 6.0 * Double(entries.map(\.1.count).max() ?? 0)
        let height = rowHeight * Double(entries.count) + 8
        let x = corner == .bottomLeft ? self.left + 10 : self.right - 10 - width
        let y = corner == .topRight ? self.top + 22 : self.bottom - 10 - height
        self.elements.append(
            "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"#ffffff\" "
                + "fill-opacity=\"0.92\" stroke=\"#bbbbbb\" stroke-width=\"1\"/>"
        )
        for (index, (symbol, label)) in entries.enumerated() {
            let rowY = y + 4 + rowHeight * (Double(index) + 0.5)
            switch symbol {
            case .line(let stroke, let dash):
                self.line(x + 8, rowY, x + 32, rowY, stroke: stroke, width: 2, dash: dash)
            case .box(let fill):
                self.elements.append(
                    "<rect x=\"\(n(x + 13))\" y=\"\(n(rowY - 6))\" width=\"14\" height=\"12\" fill=\"\(fill)\"/>"
                )
            case .marker(let shape, let fill):
                self.elements.append(Self.markerElement(shape, x: x + 20, y: rowY, fill: fill))
            }
            self.text(label, x: x + 40, y: rowY + 4, size: 11, anchor: "start")
        }
    }

    /// The document: white background, title, subtitle and the elements in the order they were added.
    public func rendered() -> String {
        let title = Formatting.xmlEscaped(self.title)
        var document = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(Self.width))\" height=\"\(n(Self.height))\" "
                + "viewBox=\"0 0 \(n(Self.width)) \(n(Self.height))\" font-family=\"\(Self.font)\" role=\"img\">",
            "<title>\(title)</title>",
            "<desc>\(Formatting.xmlEscaped(self.subtitle))</desc>",
            "<rect x=\"0\" y=\"0\" width=\"\(n(Self.width))\" height=\"\(n(Self.height))\" fill=\"#ffffff\"/>",
            "<text x=\"\(n(self.left))\" y=\"26\" font-size=\"16\" font-weight=\"bold\" fill=\"#111111\">\(title)</text>",
        ]
        for (index, line) in self.subtitleLines.enumerated() {
            document.append(
                "<text x=\"\(n(self.left))\" y=\"\(n(45 + Self.subtitleLineHeight * Double(index)))\" "
                    + "font-size=\"\(n(Self.subtitleSize))\" fill=\"#444444\">\(Formatting.xmlEscaped(line))</text>"
            )
        }
        document += self.elements
        document.append("</svg>")
        return document.joined(separator: "\n") + "\n"
    }
}

/// A pixel coordinate with one decimal, and no `-0.0`.
private func n(_ value: Double) -> String {
    let rounded = (value * 10).rounded() / 10
    guard rounded.isFinite else { return "0" }
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    return String(format: "%.1f", rounded)
}
