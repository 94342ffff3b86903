/// One tree, with its nodes numbered as XGBoost numbers them: in the order they were created, so a split's
/// children come after it and siblings are adjacent.
struct Tree: Sendable, Equatable {
    /// The left child of a split, or -1 for a leaf.
    var leftChild: [Int32] = []
    var rightChild: [Int32] = []
    /// The parent, or -1 for the root.
    var parent: [Int32] = []
    /// The split feature; 0 for a leaf.
    var feature: [Int32] = []
    /// A split's float32 threshold (`x < threshold` goes left), or a leaf's value.
    var condition: [Float] = []
    var defaultLeft: [Bool] = []
    /// Each node's weight `-G/(H+λ)` times the learning rate: a leaf's value, and what it would be for a split.
    var baseWeight: [Float] = []
    var sumHessian: [Float] = []
    /// A split's gain; 0 for a leaf.
    var lossChange: [Float] = []
    /// Training only: a split's bin (bins up to it go left) and its feature's missing bin.
    var splitBin: [Int32] = []
    var missingBin: [Int32] = []

    var nodeCount: Int {
        self.leftChild.count
    }

    /// Adds a node that is a leaf until ``setSplit`` makes it a split, and returns its id.
    mutating func addNode(parent: Int, weight: Float, hessian: Double) -> Int {
        self.leftChild.append(-1)
        self.rightChild.append(-1)
        self.parent.append(Int32(parent))
        self.feature.append(0)
        self.condition.append(weight)
        self.defaultLeft.append(false)
        self.baseWeight.append(weight)
        self.sumHessian.append(Float(hessian))
        self.lossChange.append(0)
        self.splitBin.append(0)
        self.missingBin.append(0)
        return self.leftChild.count - 1
    }

    mutating func setSplit(
        _ node: Int,
        feature: Int,
        bin: Int,
        missingBin: Int,
        threshold: Float,
        defaultLeft: Bool,
        gain: Double,
        children: (Int, Int)
    ) {
        self.leftChild[node] = Int32(children.0)
        self.rightChild[node] = Int32(children.1)
        self.feature[node] = Int32(feature)
        self.condition[node] = threshold
        self.defaultLeft[node] = defaultLeft
        self.lossChange[node] = Float(gain)
        self.splitBin[node] = Int32(bin)
        self.missingBin[node] = Int32(missingBin)
    }

    /// The leaf `row` reaches: `x < threshold` goes left at float32, NaN goes the default way.
    @inline(__always)
    func leaf(_ row: UnsafePointer<Float>) -> Int {
        var node = 0
        while self.leftChild[node] >= 0 {
            let value = row[Int(self.feature[node])]
            let goesLeft = value.isNaN ? self.defaultLeft[node] : value < self.condition[node]
            node = Int(goesLeft ? self.leftChild[node] : self.rightChild[node])
        }
        return node
    }

    /// The leaf a binned training row reaches; the same leaf as ``leaf(_:)`` on its values.
    @inline(__always)
    func leaf(codes: UnsafePointer<UInt8>) -> Int {
        var node = 0
        while self.leftChild[node] >= 0 {
            let code = Int32(codes[Int(self.feature[node])])
            let goesLeft = code == self.missingBin[node] ? self.defaultLeft[node] : code <= self.splitBin[node]
            node = Int(goesLeft ? self.leftChild[node] : self.rightChild[node])
        }
        return node
    }
}
